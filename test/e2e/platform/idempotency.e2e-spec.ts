import { TestApp } from '../../support/create-test-app';
import { inviteAndAccept, signUp, TEST_PASSWORD, uniqueEmail } from '../../support/factories';

/**
 * Idempotency-Key as a client sees it. How the stored answer is kept (sealed, never
 * the token in clear) is tested at the interceptor: libs/platform/src/idempotency/idempotency.interceptor.int-spec.ts.
 */
describe('Idempotency-Key on POST (Stripe semantics)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await TestApp.start();
  });

  afterAll(async () => {
    await sut.close();
  });

  /**
   * How many accounts have this address, as a client can tell: addresses are unique, so
   * a login with it either works (1) or is refused as unknown (0).
   */
  const countUsers = async (email: string) => {
    const login = await sut.post('/v1/auth/login', { body: { email, password: TEST_PASSWORD } });
    expect([200, 401]).toContain(login.status);
    return login.status === 200 ? 1 : 0;
  };

  it('replays the first answer for a retry and creates one account', async () => {
    const body = { email: uniqueEmail('retry'), password: TEST_PASSWORD, name: 'Retry', org_name: 'Retry Org' };
    const headers = { 'idempotency-key': 'signup-attempt-1' };
    const first = await sut.post('/v1/auth/signup', { body, headers });
    const second = await sut.post('/v1/auth/signup', { body, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await countUsers(body.email)).toBe(1);
  });

  it('answers 409 when the same key comes with a different body', async () => {
    const headers = { 'idempotency-key': 'signup-attempt-2' };
    const body = { email: uniqueEmail('first'), password: TEST_PASSWORD, name: 'First', org_name: 'First Org' };
    expect((await sut.post('/v1/auth/signup', { body, headers })).status).toBe(201);
    const other = { ...body, email: uniqueEmail('second') };
    const conflict = await sut.post('/v1/auth/signup', { body: other, headers });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await countUsers(other.email)).toBe(0);
  });

  it('keeps nothing for a failed attempt, so a corrected retry with the same key goes through', async () => {
    const headers = { 'idempotency-key': 'signup-attempt-3' };
    const body = { email: uniqueEmail('fix'), password: TEST_PASSWORD, name: 'Fix', org_name: 'Fix Org' };
    const taken = await signUp(sut);
    expect((await sut.post('/v1/auth/signup', { body: { ...body, email: taken.email }, headers })).status).toBe(409);
    // A different body after a failure is a fresh attempt, not a reuse.
    expect((await sut.post('/v1/auth/signup', { body, headers })).status).toBe(201);
  });

  it('scopes keys per organisation: another org may use the same key', async () => {
    const a = await signUp(sut);
    const b = await signUp(sut);
    const headers = { 'idempotency-key': 'shared-key' };
    const first = await sut.post('/v1/auth/logout', { token: a.token, headers });
    const second = await sut.post('/v1/auth/logout', { token: b.token, headers });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
  });

  it('lets exactly one of two concurrent requests with the same key run', async () => {
    const body = { email: uniqueEmail('race'), password: TEST_PASSWORD, name: 'Race', org_name: 'Race Org' };
    const headers = { 'idempotency-key': 'race-key' };
    const answers = await Promise.all([sut.post('/v1/auth/signup', { body, headers }), sut.post('/v1/auth/signup', { body, headers })]);
    const statuses = answers.map((answer) => answer.status).sort();
    // Either the second waited and was replayed (201), or it arrived mid-flight (409 IDEMPOTENCY_IN_PROGRESS).
    expect(statuses[0]).toBe(201);
    expect([201, 409]).toContain(statuses[1]);
    expect(await countUsers(body.email)).toBe(1);
  });

  it('answers 409 to another member of the same org reusing a key, instead of replaying their answer', async () => {
    const owner = await signUp(sut);
    const colleague = await signUp(sut);
    await inviteAndAccept(sut, owner, colleague, 'admin');
    const switched = await sut.post('/v1/auth/switch-org', { token: colleague.token, body: { org_id: owner.orgId } });
    expect(switched.status).toBe(200);
    const headers = { 'idempotency-key': 'per-caller' };
    const body = { name: 'first', environment: 'test' };
    expect((await sut.post('/v1/api-keys', { token: owner.token, body, headers })).status).toBe(201);
    const reuse = await sut.post('/v1/api-keys', { token: colleague.token, body, headers });
    expect(reuse.status).toBe(409);
    expect(reuse.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(JSON.stringify(reuse.body)).not.toContain('sk_test_');
  });

  it('refuses an over-long key with 400', async () => {
    const response = await sut.post('/v1/auth/signup', { body: {}, headers: { 'idempotency-key': 'k'.repeat(256) } });
    expect(response.status).toBe(400);
  });
});
