import { TestApp } from '../../support/create-test-app';
import { signUp, uniqueEmail } from '../../support/factories';

describe('HTTP conventions shared by every service', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await TestApp.start();
  });

  afterAll(async () => {
    await sut.close();
  });

  it('answers success in the envelope with an x-request-id', async () => {
    const owner = await signUp(sut);
    const response = await sut.get('/v1/auth/session', { token: owner.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ success: true, data: { user: { id: owner.userId } } });
    expect(response.headers['x-request-id']).toMatch(/^req_[0-9A-Z]{26}$/);
  });

  it('answers invalid JSON with 400 INVALID_JSON in the envelope', async () => {
    const response = await sut.post('/v1/auth/signup', { rawBody: '{"email": ' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      success: false,
      error: { code: 'INVALID_JSON', message: expect.any(String), details: [], request_id: response.headers['x-request-id'] },
    });
  });

  it('answers wrong types and unknown fields with 400 VALIDATION_FAILED naming each field', async () => {
    const response = await sut.post('/v1/auth/signup', {
      body: { email: 42, password: ['x'], name: 'A', org_name: 'B', is_admin: true },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    const fields = response.body.error.details.map((detail: { field: string }) => detail.field).sort();
    expect(fields).toEqual(['email', 'is_admin', 'password']);
  });

  it('answers a 2 MiB body with 413 and creates nothing', async () => {
    const email = uniqueEmail('big');
    const padding = 'x'.repeat(2 * 1024 * 1024);
    const response = await sut.post('/v1/auth/signup', {
      rawBody: JSON.stringify({ email, password: 'long enough password', name: padding, org_name: 'Big' }),
    });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const login = await sut.post('/v1/auth/login', { body: { email, password: 'long enough password' } });
    expect(login.status).toBe(401);
  });

  it('answers a non-JSON body with 415', async () => {
    const response = await sut.post('/v1/auth/signup', { rawBody: 'email=a@b.c', headers: { 'content-type': 'text/plain' } });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an unknown route with 404 in the envelope', async () => {
    const response = await sut.get('/v1/no-such-thing');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });

  it('answers a missing or invalid session with 401', async () => {
    expect((await sut.get('/v1/auth/session')).status).toBe(401);
    const invalid = await sut.get('/v1/auth/session', { token: 'lks_not-a-real-session' });
    expect(invalid.status).toBe(401);
    expect(invalid.body.error.code).toBe('UNAUTHENTICATED');
  });
});
