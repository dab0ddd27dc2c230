import { TestApp } from '../../support/create-test-app';
import { TEST_PASSWORD, uniqueEmail } from '../../support/factories';
import { LogCapture } from '../../support/log-capture';

describe('structured logs', () => {
  const logs = new LogCapture();
  let sut: TestApp;

  beforeAll(async () => {
    sut = await TestApp.start({ logs, config: { LOG_LEVEL: 'info' } });
  });

  afterAll(async () => {
    await sut.close();
  });

  it('writes one JSON line per request carrying its request id, and never a password or token', async () => {
    const email = uniqueEmail('logged');
    const signup = await sut.post('/v1/auth/signup', { body: { email, password: TEST_PASSWORD, name: 'Logged', org_name: 'Logs' } });
    const token: string = signup.body.data.token;
    await sut.get('/v1/auth/session?debug=1', { token });
    await sut.post('/v1/auth/login', { body: { email, password: 'a wrong password' } });

    const requestId = signup.headers['x-request-id'];
    const entries = logs.entries();
    const signupLine = entries.find((entry) => (entry.req as { id?: string } | undefined)?.id === requestId);
    expect(signupLine).toMatchObject({ level: 30, req: { method: 'POST', path: '/v1/auth/signup' }, res: { statusCode: 201 } });

    expect(logs.text).not.toContain(TEST_PASSWORD);
    expect(logs.text).not.toContain('a wrong password');
    expect(logs.text).not.toContain(token);
    expect(logs.text).not.toContain(token.slice(4, 20));
  });
});
