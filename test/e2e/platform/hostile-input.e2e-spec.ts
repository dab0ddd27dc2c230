import { request } from 'node:http';

import { TestApp } from '../../support/create-test-app';
import { signUp, TEST_PASSWORD, uniqueEmail, UserSession } from '../../support/factories';

/** What every refusal below must look like: a 4xx in the envelope, with a request id. */
function expectEnvelope(answer: { status: number; body: any }, status: number, code?: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ success: false, error: { request_id: expect.stringMatching(/^req_/) } });
  if (code) expect(answer.body.error.code).toBe(code);
}

/** Over a real socket: injection never reaches Node's parser or the router's URL decoding. */
function overSocket(baseUrl: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${baseUrl}${path}`, { headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('hostile input never gets a 500', () => {
  let sut: TestApp;
  let owner: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start();
    owner = await signUp(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  async function keyCount(): Promise<number> {
    const list = await sut.get('/v1/api-keys?limit=100', { token: owner.token });
    return (list.body.data as unknown[]).length;
  }

  it('refuses NUL and unpaired surrogates in any body string, naming the field, and creates nothing', async () => {
    const email = uniqueEmail('nul');
    const signup = await sut.post('/v1/auth/signup', { body: { email, password: TEST_PASSWORD, name: 'x\u0000', org_name: 'Org' } });
    expectEnvelope(signup, 400, 'VALIDATION_FAILED');
    expect(signup.body.error.details[0].field).toBe('name');
    const surrogate = await sut.post('/v1/auth/signup', {
      rawBody: JSON.stringify({ email, password: TEST_PASSWORD, name: 'ok', org_name: 'x' }).replace('"x"', '"\\ud800"'),
    });
    expectEnvelope(surrogate, 400, 'VALIDATION_FAILED');
    expect((await sut.post('/v1/auth/login', { body: { email, password: TEST_PASSWORD } })).status).toBe(401);

    const before = await keyCount();
    const deepNul = await sut.post('/v1/api-keys', {
      token: owner.token,
      body: { name: 'k', environment: 'test', metadata: { a: { b: ['x\u0000'] } } },
    });
    expectEnvelope(deepNul, 400, 'VALIDATION_FAILED');
    expect(deepNul.body.error.details[0].field).toBe('metadata.a.b.0');
    const keyName = await sut.post('/v1/api-keys', {
      token: owner.token,
      body: { name: 'k', environment: 'test', metadata: { 'a\u0000': 1 } },
    });
    expectEnvelope(keyName, 400, 'VALIDATION_FAILED');
    const orgName = await sut.patch('/v1/orgs/current', { token: owner.token, body: { name: 'x\u0000' } });
    expectEnvelope(orgName, 400, 'VALIDATION_FAILED');
    expect(await keyCount()).toBe(before);
  });

  it('refuses them in query strings too', async () => {
    expectEnvelope(await sut.get('/v1/api-keys?search=a%00b', { token: owner.token }), 400, 'VALIDATION_FAILED');
    // A lone surrogate cannot arrive in a URL: percent-decoding makes it U+FFFD or refuses it.
    expectEnvelope(await sut.get('/v1/api-keys', { token: owner.token, query: { search: 'x\u0000' } }), 400, 'VALIDATION_FAILED');
  });

  it('refuses a forged cursor on the request log', async () => {
    expectEnvelope(await sut.get('/v1/logs?cursor=req_ZZZZZZZZZZZZZZZZZZZZZZZZZZ', { token: owner.token }), 400, 'VALIDATION_FAILED');
    expectEnvelope(await sut.get('/v1/api-keys?cursor=key_ZZZZZZZZZZZZZZZZZZZZZZZZZZ', { token: owner.token }), 400, 'VALIDATION_FAILED');
  });

  it('refuses JSON nested thousands deep with a 400, not a stack overflow', async () => {
    const before = await keyCount();
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    expectEnvelope(
      await sut.post('/v1/api-keys', { token: owner.token, rawBody: `{"name":"k","environment":"test","metadata":${deep}}` }),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(await sut.post('/v1/auth/signup', { rawBody: '['.repeat(100_000) + ']'.repeat(100_000) }), 400, 'VALIDATION_FAILED');
    expect(await keyCount()).toBe(before);
  });

  it('answers what the router and Node refuse in the envelope', async () => {
    const auth = { authorization: `Bearer ${owner.token}` };
    const badUrl = await overSocket(sut.baseUrl, '/v1/api-keys/%E0%A4%A', auth);
    expectEnvelope(badUrl, 400, 'INVALID_URL');
    expectEnvelope(await overSocket(sut.baseUrl, `/v1/api-keys/${'a'.repeat(1000)}`, auth), 414, 'URI_TOO_LONG');
    expectEnvelope(await overSocket(sut.baseUrl, '/v1/api-keys', { ...auth, 'x-big': 'a'.repeat(20_000) }), 431, 'HEADERS_TOO_LARGE');
    expectEnvelope(await overSocket(sut.baseUrl, '/v1/verify', { 'x-big': 'a'.repeat(20_000) }), 431, 'HEADERS_TOO_LARGE');
    expectEnvelope(
      await sut.post('/v1/api-keys', { token: owner.token, rawBody: `{"name":"${'a'.repeat(1_100_000)}"}` }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });
});
