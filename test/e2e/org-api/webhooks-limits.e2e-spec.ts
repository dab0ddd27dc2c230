import { CallResult, TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';

const MAX = 3;

describe('Webhook endpoints per organisation and environment (WEBHOOK_MAX_ENDPOINTS)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await TestApp.start({
      config: { TARGET: 'org-api', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_MAX_ENDPOINTS: String(MAX) },
    });
  });

  afterAll(async () => {
    await sut.close();
  });

  /** How many rows a list of the caller's organisation holds (every test stays under one page). */
  async function listed(session: UserSession, url: string, query: Record<string, string>): Promise<number> {
    const response = await sut.get(url, { token: session.token, query: { limit: '100', ...query } });
    expect(response.status).toBe(200);
    expect(response.body.has_more).toBe(false);
    return response.body.data.length;
  }
  const countOf = (session: UserSession, environment: 'test' | 'live') => listed(session, '/v1/webhooks', { environment });
  const createdAudits = (session: UserSession) => listed(session, '/v1/audit-logs', { action: 'webhook.created' });

  function create(session: UserSession, environment: 'test' | 'live' = 'test'): Promise<CallResult> {
    return sut.post('/v1/webhooks', {
      token: session.token,
      body: { url: 'http://127.0.0.1:4000/hooks', events: ['*'], environment },
    });
  }

  async function fill(session: UserSession, environment: 'test' | 'live' = 'test'): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < MAX; index += 1) {
      const response = await create(session, environment);
      expect(response.status).toBe(201);
      ids.push(response.body.data.id);
    }
    return ids;
  }

  it('refuses one endpoint more with 409 WEBHOOK_ENDPOINT_LIMIT_REACHED in the error envelope, disabled ones counted, and creates nothing', async () => {
    const owner = await signUp(sut);
    const [first] = await fill(owner);
    expect((await sut.post(`/v1/webhooks/${first}/disable`, { token: owner.token })).status).toBe(200);
    const auditBefore = await createdAudits(owner);

    const refused = await create(owner);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      success: false,
      error: {
        code: 'WEBHOOK_ENDPOINT_LIMIT_REACHED',
        message: `This organisation already has ${MAX} webhook endpoints in the test environment, the most allowed; delete one first.`,
        details: [],
        request_id: expect.stringMatching(/^req_/),
      },
    });
    expect(await countOf(owner, 'test')).toBe(MAX);
    expect(await createdAudits(owner)).toBe(auditBefore);
  });

  it('counts each environment and each organisation on its own', async () => {
    const owner = await signUp(sut);
    const neighbour = await signUp(sut);
    await fill(owner, 'test');

    expect((await create(owner, 'live')).status).toBe(201);
    expect((await create(neighbour, 'test')).status).toBe(201);
    expect([await countOf(owner, 'test'), await countOf(owner, 'live'), await countOf(neighbour, 'test')]).toEqual([MAX, 1, 1]);
  });

  it('makes room again when an endpoint is deleted', async () => {
    const owner = await signUp(sut);
    const [first] = await fill(owner);
    expect((await create(owner)).status).toBe(409);

    expect((await sut.delete(`/v1/webhooks/${first}`, { token: owner.token })).status).toBe(200);
    expect((await create(owner)).status).toBe(201);
    expect(await countOf(owner, 'test')).toBe(MAX);
  });

  it('never goes past the limit when creations race each other', async () => {
    const owner = await signUp(sut);
    const responses = await Promise.all(Array.from({ length: MAX + 3 }, () => create(owner)));

    expect(responses.map((response) => response.status).sort()).toEqual([...Array(MAX).fill(201), ...Array(3).fill(409)]);
    expect(await countOf(owner, 'test')).toBe(MAX);
  });
});
