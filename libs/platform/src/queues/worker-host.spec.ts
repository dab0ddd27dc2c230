import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { UnrecoverableError } from 'bullmq';

import { withoutValues } from './worker-host';

const EMAIL = 'grace@example.com';

function uniqueViolation(): Error {
  const pg = Object.assign(
    new Error(`insert into "users" ("email") values ('${EMAIL}') - duplicate key value violates unique constraint "users_email_unique"`),
    { severity: 'ERROR', code: '23505', constraint: 'users_email_unique', table: 'users' },
  );
  return new UniqueConstraintViolationException(pg);
}

describe('withoutValues', () => {
  it('replaces a database error by its value-free description, keeping its name, its frames and the original as cause', () => {
    const original = uniqueViolation();

    const safe = withoutValues(original) as Error;

    expect(safe).not.toBe(original);
    expect(safe.name).toBe('UniqueConstraintViolationException');
    expect(safe.message).toMatch(/^database error 23505 unique_violation/);
    expect(safe.message).not.toContain(EMAIL);
    expect(safe.stack).not.toContain(EMAIL);
    expect(safe.stack?.split('\n')[0]).toBe(`UniqueConstraintViolationException: ${safe.message}`);
    expect(safe.stack?.split('\n').slice(1).length).toBeGreaterThan(0);
    expect(safe.cause).toBe(original);
  });

  it('keeps an UnrecoverableError recognisable by name when its message quotes the statement of its cause', () => {
    const cause = uniqueViolation();
    const original = Object.assign(new UnrecoverableError(`cannot count: ${cause.message}`), { cause });

    const safe = withoutValues(original) as Error;

    expect(safe.name).toBe('UnrecoverableError');
    expect(safe.message).toMatch(/^cannot count: database error 23505/);
    expect(safe.message).not.toContain(EMAIL);
  });

  it('leaves an error with nothing to hide, and a thrown non-error, as they are', () => {
    const plain = new UnrecoverableError('unknown job x');

    expect(withoutValues(plain)).toBe(plain);
    expect(withoutValues('a string')).toBe('a string');
  });
});
