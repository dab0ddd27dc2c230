import { TestApp } from '../../support/create-test-app';
import { TEST_PASSWORD, uniqueEmail } from '../../support/factories';

/** `name=value` pairs of the Set-Cookie headers, with each cookie's attributes. */
function setCookies(headers: Record<string, unknown>): Map<string, { value: string; attributes: string[] }> {
  const raw = headers['set-cookie'];
  const lines = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  const cookies = new Map<string, { value: string; attributes: string[] }>();
  for (const line of lines) {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), { value: pair.slice(at + 1), attributes: attributes.map((a) => a.toLowerCase()) });
  }
  return cookies;
}

describe('browser sessions (cookie + CSRF)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await TestApp.start();
  });

  afterAll(async () => {
    await sut.close();
  });

  async function signUpByBrowser() {
    const response = await sut.post('/v1/auth/signup', {
      body: { email: uniqueEmail('browser'), password: TEST_PASSWORD, name: 'Bea', org_name: 'Browsers' },
    });
    expect(response.status).toBe(201);
    const cookies = setCookies(response.headers);
    const session = cookies.get('latchkey_session');
    const csrf = cookies.get('latchkey_csrf');
    if (!session || !csrf) throw new Error(`signup set no session cookies: ${JSON.stringify(response.headers['set-cookie'])}`);
    return { response, session, csrf, cookie: `latchkey_session=${session.value}; latchkey_csrf=${csrf.value}` };
  }

  it('sets an HttpOnly SameSite=Lax session cookie and a readable CSRF cookie at signup and login', async () => {
    const { response, session, csrf } = await signUpByBrowser();
    expect(session.value).toBe(response.body.data.token);
    expect(session.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/']));
    expect(session.attributes.some((a) => a.startsWith('expires='))).toBe(true);
    expect(csrf.attributes).not.toContain('httponly');
    expect(csrf.value).toMatch(/^[0-9a-f]{64}$/);
    expect(csrf.value).not.toBe(session.value);
    // NODE_ENV=test runs on plain http, where a Secure cookie would never come back.
    expect(session.attributes).not.toContain('secure');

    const login = await sut.post('/v1/auth/login', { body: { email: response.body.data.user.email, password: TEST_PASSWORD } });
    expect(login.status).toBe(200);
    const again = setCookies(login.headers);
    expect(again.get('latchkey_session')?.value).toBe(login.body.data.token);
    expect(again.get('latchkey_session')?.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax']));
  });

  it('leaves the token out of the body for a client that asks for the cookie alone, at signup and login', async () => {
    const email = uniqueEmail('cookie-only');
    const headers = { 'x-latchkey-session': 'cookie' };
    const signup = await sut.post('/v1/auth/signup', {
      headers,
      body: { email, password: TEST_PASSWORD, name: 'Cy', org_name: 'Cookies only' },
    });
    expect(signup.status).toBe(201);
    expect(signup.body.data).not.toHaveProperty('token');
    expect(signup.body.data.user.email).toBe(email);

    const login = await sut.post('/v1/auth/login', { headers, body: { email, password: TEST_PASSWORD } });
    expect(login.status).toBe(200);
    expect(login.body.data).not.toHaveProperty('token');
    const session = setCookies(login.headers).get('latchkey_session');
    expect(session?.value).toMatch(/^lks_/);
    const read = await sut.get('/v1/auth/session', { headers: { cookie: `latchkey_session=${session?.value}` } });
    expect(read.status).toBe(200);
    expect(read.body.data.user.email).toBe(email);
  });

  it('authenticates a read by the cookie alone', async () => {
    const { response, cookie } = await signUpByBrowser();
    const session = await sut.get('/v1/auth/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    expect(session.body.data.user.id).toBe(response.body.data.user.id);
  });

  it('refuses a cookie-authenticated write without the CSRF token, in the error envelope', async () => {
    const { cookie } = await signUpByBrowser();
    const missing = await sut.post('/v1/api-keys', { headers: { cookie }, body: { name: 'no csrf', environment: 'test' } });
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual({
      success: false,
      error: expect.objectContaining({
        code: 'CSRF_TOKEN_INVALID',
        message: expect.stringContaining('X-CSRF-Token'),
        request_id: expect.any(String),
      }),
    });
    const wrong = await sut.post('/v1/api-keys', {
      headers: { cookie, 'x-csrf-token': 'f'.repeat(64) },
      body: { name: 'wrong csrf', environment: 'test' },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('CSRF_TOKEN_INVALID');
  });

  it('accepts a cookie-authenticated write that echoes the CSRF cookie', async () => {
    const { cookie, csrf } = await signUpByBrowser();
    const created = await sut.post('/v1/api-keys', {
      headers: { cookie, 'x-csrf-token': csrf.value },
      body: { name: 'with csrf', environment: 'test' },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.name).toBe('with csrf');
  });

  it('asks no CSRF token of a Bearer request, even when a cookie rides along', async () => {
    const { response, cookie } = await signUpByBrowser();
    const created = await sut.post('/v1/api-keys', {
      token: response.body.data.token,
      headers: { cookie },
      body: { name: 'bearer', environment: 'test' },
    });
    expect(created.status).toBe(201);
  });

  it('logs out: the session ends and both cookies are cleared', async () => {
    const { cookie, csrf } = await signUpByBrowser();
    const refused = await sut.post('/v1/auth/logout', { headers: { cookie } });
    expect(refused.status).toBe(403);

    const logout = await sut.post('/v1/auth/logout', { headers: { cookie, 'x-csrf-token': csrf.value } });
    expect(logout.status).toBe(200);
    const cleared = setCookies(logout.headers);
    for (const name of ['latchkey_session', 'latchkey_csrf']) {
      expect(cleared.get(name)?.value).toBe('');
      expect(cleared.get(name)?.attributes).toEqual(expect.arrayContaining([expect.stringMatching(/^expires=thu, 01 jan 1970/)]));
    }
    const after = await sut.get('/v1/auth/session', { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHENTICATED');
  });
});
