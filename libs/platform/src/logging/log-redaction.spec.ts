import { UniqueConstraintViolationException } from '@mikro-orm/core';
import pino from 'pino';
import { err as stdErrSerializer } from 'pino-std-serializers';

import {
  errorMessageForLog,
  errorMessageHook,
  isSecretKey,
  REDACTED,
  redactForLog,
  redactLogObject,
  serializeErrorForLog,
} from './log-redaction';

const EMAIL = 'grace@example.com';
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA';

function uniqueViolation(): Error {
  const pg = Object.assign(
    new Error(
      `insert into "users" ("email", "password_hash") values ('${EMAIL}', '${HASH}') - duplicate key value violates unique constraint "users_email_unique"`,
    ),
    {
      severity: 'ERROR',
      code: '23505',
      constraint: 'users_email_unique',
      table: 'users',
      detail: `Key (email)=(${EMAIL}) already exists.`,
    },
  );
  return new UniqueConstraintViolationException(pg);
}

describe('isSecretKey', () => {
  it.each([
    'password',
    'Password',
    'new_password',
    'passwordHash',
    'password_hash',
    'key_hash',
    'token',
    'session_token',
    'x-internal-token',
    'secret',
    'webhook_secret',
    'x-api-key',
    'apiKey',
    'authorization',
    'cookie',
    'set-cookie',
    'key',
    'x-signature',
    'tokens',
    'encryption_key',
    'secret_key',
    'signingKey',
    'credential',
  ])('%s is secret', (key) => expect(isSecretKey(key)).toBe(true));
  it.each([
    'key_id',
    'keyId',
    'prefix',
    'email',
    'user_id',
    'token_id',
    'max_tokens_per_minute',
    'statusCode',
    'public_key',
    'idempotency-key',
  ])('%s is not', (key) => expect(isSecretKey(key)).toBe(false));
});

describe('redactForLog', () => {
  it('blanks the password of a URL written in any string, message or stack', () => {
    const logged = redactForLog({
      msg: 'connecting to redis://latchkey:pw-1@redis:6379/0 and postgres://app:pw-2@db:5432/lk',
      nested: { reason: new Error('connect ECONNREFUSED rediss://u:pw-3@cache:6380') },
      plain: 'https://example.com/a@b and redis://nopassword@host',
    });
    const text = JSON.stringify(logged);
    for (const secret of ['pw-1', 'pw-2', 'pw-3']) expect(text).not.toContain(secret);
    expect(text).toContain('redis://latchkey:[redacted]@redis:6379/0');
    expect(text).toContain('https://example.com/a@b and redis://nopassword@host');
  });

  it('replaces secrets at any depth, in arrays too, and keeps everything else', () => {
    const logged = redactForLog({
      body: { user: { email: EMAIL, password: 'hunter2' } },
      err: { config: { headers: { authorization: 'Bearer abc', accept: 'json' } } },
      items: [{ key: 'lk_live_abc' }, { key_id: 'k1' }],
      at: new Date('2026-12-03T00:00:00Z'),
    });
    expect(logged).toEqual({
      body: { user: { email: EMAIL, password: REDACTED } },
      err: { config: { headers: { authorization: REDACTED, accept: 'json' } } },
      items: [{ key: REDACTED }, { key_id: 'k1' }],
      at: '2026-12-03T00:00:00.000Z',
    });
  });

  it('stops at a depth and a size bound instead of walking everything, and never writes what it did not walk', () => {
    let deep: Record<string, unknown> = { password: 'too deep to walk' };
    for (let level = 0; level < 20; level += 1) deep = { nested: deep };
    expect(JSON.stringify(redactForLog(deep))).not.toContain('too deep to walk');
    expect(JSON.stringify(redactForLog(deep))).toContain('[truncated]');

    const circular: Record<string, unknown> = { token: 't0ken' };
    circular.self = circular;
    expect(JSON.stringify(redactForLog(circular))).not.toContain('t0ken');

    const wide = Array.from({ length: 5_000 }, (_, index) => ({ index }));
    const walked = redactForLog({ wide }) as { wide: unknown[] };
    expect(walked.wide).toHaveLength(101);
    expect(walked.wide[100]).toBe('[4900 more]');
  });
});

describe('serializeErrorForLog', () => {
  it('logs a database error as its description only', () => {
    const logged = serializeErrorForLog(uniqueViolation());
    expect(logged).toMatchObject({
      sqlstate: '23505',
      constraint: 'users_email_unique',
      table: 'users',
      statement: 'insert into "users" ("email", "password_hash") values (?, ?)',
    });
    expect(JSON.stringify(logged)).not.toContain(EMAIL);
    expect(JSON.stringify(logged)).not.toContain('argon2id');
  });

  it('describes a database error nested as a cause, and scrubs a wrapper message that quotes it', () => {
    const cause = uniqueViolation();
    const wrapper = new Error(`could not create the account: ${cause.message}`, { cause });
    const logged = serializeErrorForLog(wrapper) as { message: string; cause: unknown };
    const text = JSON.stringify(logged);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain('argon2id');
    expect(logged.message).toBe(
      'could not create the account: database error 23505 unique_violation (constraint users_email_unique, table users): insert into "users" ("email", "password_hash") values (?, ?)',
    );
    expect(logged.cause).toMatchObject({ sqlstate: '23505' });
  });

  it('starts again from the original error when pino-std-serializers ran first (pino-http wraps ours)', () => {
    const logged = serializeErrorForLog(stdErrSerializer(uniqueViolation()));
    expect(logged).toMatchObject({ sqlstate: '23505' });
    expect(JSON.stringify(logged)).not.toContain(EMAIL);
  });

  it('keeps an ordinary error readable with its own fields redacted', () => {
    const error = Object.assign(new Error('request failed'), { status: 502, config: { headers: { Authorization: 'Bearer abc' } } });
    expect(serializeErrorForLog(error)).toMatchObject({
      type: 'Error',
      message: 'request failed',
      status: 502,
      config: { headers: { Authorization: REDACTED } },
    });
  });
});

describe('in a pino logger', () => {
  function logger() {
    const lines: string[] = [];
    const log = pino(
      {
        formatters: { log: redactLogObject(new Set(['err'])) },
        hooks: { logMethod: errorMessageHook },
        serializers: { err: serializeErrorForLog },
      },
      { write: (line: string) => lines.push(line) },
    );
    return { log, lines };
  }

  it('gives a line logged with only a database error a message without its values', () => {
    const { log, lines } = logger();
    log.error(uniqueViolation());
    log.error({ err: uniqueViolation() });
    log.error({ err: uniqueViolation() }, 'signup failed');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain(EMAIL);
      expect(line).not.toContain('argon2id');
      expect(JSON.parse(line)).toMatchObject({ err: { sqlstate: '23505', constraint: 'users_email_unique' } });
    }
    expect(JSON.parse(lines[0]).msg).toMatch(/^database error 23505 unique_violation/);
    expect(JSON.parse(lines[2]).msg).toBe('signup failed');
  });

  it('redacts nested secrets in the logged object', () => {
    const { log, lines } = logger();
    log.warn({ body: { user: { password: 'hunter2' } }, token: 'abc' }, 'x');
    expect(JSON.parse(lines[0])).toMatchObject({ body: { user: { password: REDACTED } }, token: REDACTED });
  });
});

describe('errorMessageForLog blanks URL passwords', () => {
  it('in a plain error and in a thrown string', () => {
    expect(errorMessageForLog(new Error('POST https://hook:pw-9@example.com/x failed'))).toBe(
      'POST https://hook:[redacted]@example.com/x failed',
    );
    expect(errorMessageForLog('redis://u:pw-8@cache:6379 refused')).toBe('redis://u:[redacted]@cache:6379 refused');
  });
});

describe('errorMessageForLog', () => {
  it('is the description for a database error and the message otherwise', () => {
    expect(errorMessageForLog(uniqueViolation())).toMatch(
      /^database error 23505 unique_violation \(constraint users_email_unique, table users\): insert/,
    );
    expect(errorMessageForLog(new Error('plain'))).toBe('plain');
    expect(errorMessageForLog('thrown string')).toBe('thrown string');
  });
});
