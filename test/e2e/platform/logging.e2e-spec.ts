import { Logger } from '@nestjs/common';
import { Client } from 'pg';

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

  it('logs a failed statement by SQLSTATE and constraint, never with the email or the password hash it carried', async () => {
    const email = uniqueEmail('refused');
    // A constraint this test adds to its own database, so that the signup's insert really
    // fails in Postgres with a violation the API does not map: the 500 path logs it. The
    // fault is injected over a connection of the test's own, as an operator's psql would.
    const admin = new Client({ connectionString: sut.env.databaseUrl });
    await admin.connect();
    try {
      await admin.query(`alter table users add constraint logging_spec_refuses check (email <> '${email}') not valid`);
    } finally {
      await admin.end();
    }

    const signup = await sut.post('/v1/auth/signup', {
      body: { email, password: TEST_PASSWORD, name: 'Refused', org_name: 'Refused Org' },
    });

    expect(signup.status).toBe(500);
    const requestId = signup.body.error.request_id ?? signup.headers['x-request-id'];
    const line = logs.entries().find((entry) => entry.msg === 'unhandled error' && entry.request_id === requestId);
    expect(line).toMatchObject({
      level: 50,
      err: {
        type: 'CheckConstraintViolationException',
        sqlstate: '23514',
        condition: 'check_violation',
        constraint: 'logging_spec_refuses',
        table: 'users',
        statement: expect.stringMatching(/^insert into "users" \(.*"email".*"password_hash".*\) values \(\?, \?/),
      },
    });
    expect(logs.text).not.toContain(email);
    expect(logs.text).not.toContain('$argon2id$');
    expect(logs.text).not.toContain(TEST_PASSWORD);
  });

  it('redacts secrets at any depth of a logged object', () => {
    const marker = `nested-${Date.now()}`;
    new Logger('LoggingSpec').warn(
      {
        marker,
        body: { user: { email: 'kept@example.com', password: 'nested password' } },
        err: { config: { headers: { authorization: 'Bearer nested-token', 'x-api-key': 'lk_test_nested' } } },
        keys: [{ key_hash: 'nested-hash', key_id: 'key_kept' }],
      },
      'nested secrets',
    );

    const line = logs.entries().find((entry) => entry.marker === marker);
    expect(line).toMatchObject({
      msg: 'nested secrets',
      body: { user: { email: 'kept@example.com', password: '[redacted]' } },
      err: { config: { headers: { authorization: '[redacted]', 'x-api-key': '[redacted]' } } },
      keys: [{ key_hash: '[redacted]', key_id: 'key_kept' }],
    });
    for (const secret of ['nested password', 'nested-token', 'lk_test_nested', 'nested-hash']) expect(logs.text).not.toContain(secret);
  });
});
