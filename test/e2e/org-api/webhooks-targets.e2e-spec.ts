import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { LogCapture } from '../../support/log-capture';

const NOT_PUBLIC = "The URL's host must resolve to a public address.";

/**
 * SSRF protection (docs/api-conventions.md#webhooks): with
 * WEBHOOK_ALLOW_PRIVATE_TARGETS off — the default — endpoints pointing at private,
 * loopback, link-local or metadata addresses are refused, whether written as an IP
 * literal or as a name that resolves to one. The tenant is told only that the host
 * is not public; what it resolved to, and why it was refused, is logged for the
 * operator.
 */
describe('Webhook targets when private targets are not allowed', () => {
  const logs = new LogCapture();
  let sut: TestApp;
  let owner: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { TARGET: 'org-api', LOG_LEVEL: 'warn' }, logs });
    expect(sut.config.WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(false);
    owner = await signUp(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  /** The endpoints the owner's organisation has, as its members see them. */
  const endpointCount = async () => {
    const response = await sut.get('/v1/webhooks', { token: owner.token, query: { limit: '100' } });
    expect(response.status).toBe(200);
    return response.body.data.length as number;
  };

  it.each([
    ['http://127.0.0.1/hooks', 'loopback'],
    ['http://127.0.0.1:3000/hooks', 'loopback'],
    ['http://10.0.0.1/hooks', 'private'],
    ['http://192.168.1.20/hooks', 'private'],
    ['http://100.64.1.1/hooks', 'carrierGradeNat'],
    ['http://[::1]/hooks', 'loopback'],
    ['http://[::ffff:127.0.0.1]/hooks', 'loopback'],
    ['http://[fe80::1]/hooks', 'linkLocal'],
    ['http://[fd12:3456::1]/hooks', 'uniqueLocal'],
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
    ['http://[fd00:ec2::254]/', 'cloud metadata'],
    ['http://0.0.0.0/hooks', 'unspecified'],
    ['http://2130706433/hooks', 'loopback'],
    ['http://localhost/hooks', 'loopback'],
    ['http://localhost:4000/hooks', 'loopback'],
    ['http://[::127.0.0.1]/hooks', 'IPv4-compatible'],
    ['http://[::7f00:1]/hooks', 'IPv4-compatible'],
    ['http://[::a00:1]/hooks', 'IPv4-compatible'],
  ])('refuses %s (%s) with 400 and creates nothing, logging why', async (url, kind) => {
    const before = await endpointCount();
    const response = await sut.post('/v1/webhooks', { token: owner.token, body: { url, events: ['*'], environment: 'test' } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'url', message: NOT_PUBLIC }],
    });
    expect(await endpointCount()).toBe(before);
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    expect(logs.entries()).toContainEqual(
      expect.objectContaining({ level: 40, host, reason: expect.stringContaining(kind), address: expect.any(String) }),
    );
  });

  it('does not tell the tenant what a host name resolves to, and logs it instead', async () => {
    const response = await sut.post('/v1/webhooks', {
      token: owner.token,
      body: { url: 'http://localhost:4000/hooks', events: ['*'], environment: 'test' },
    });
    expect(response.status).toBe(400);
    const answer = JSON.stringify(response.body);
    for (const address of ['127.0.0.1', '::1', 'loopback']) expect(answer).not.toContain(address);
    const logged = logs.entries().filter((entry) => entry.host === 'localhost');
    expect(logged.map((entry) => entry.address)).toEqual(expect.arrayContaining([expect.stringMatching(/^(127\.0\.0\.1|::1)$/)]));
  });

  it('answers a host that does not resolve exactly as one that resolves to a private address', async () => {
    const response = await sut.post('/v1/webhooks', {
      token: owner.token,
      body: { url: 'https://no-such-host.invalid/hooks', events: ['*'], environment: 'test' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([{ field: 'url', message: NOT_PUBLIC }]);
    expect(logs.entries()).toContainEqual(
      expect.objectContaining({ level: 40, host: 'no-such-host.invalid', reason: expect.stringContaining('does not resolve') }),
    );
  });

  it('accepts a public address, and refuses a PATCH that points it at a private one, changing nothing', async () => {
    const created = await sut.post('/v1/webhooks', {
      token: owner.token,
      body: { url: 'http://93.184.216.34/hooks', events: ['*'], environment: 'test' },
    });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    for (const url of ['http://127.0.0.1/hooks', 'http://localhost/hooks', 'http://[::1]/', 'http://169.254.169.254/']) {
      const response = await sut.patch(`/v1/webhooks/${id}`, { token: owner.token, body: { url } });
      expect(response.status).toBe(400);
    }
    const read = await sut.get(`/v1/webhooks/${id}`, { token: owner.token });
    expect(read.body.data.url).toBe('http://93.184.216.34/hooks');
  });
});
