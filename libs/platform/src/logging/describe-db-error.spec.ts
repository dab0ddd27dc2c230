import { NotNullConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';
import { PostgreSqlExceptionConverter } from '@mikro-orm/postgresql';

import { describeDbError, describeDbErrorText, isDatabaseError, statementWithoutValues } from './describe-db-error';

const EMAIL = 'ada@example.com';
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';

/** What pg's DatabaseError looks like once knex has put the inlined statement in front of its message. */
function pgError(message: string, fields: Record<string, string | undefined>): Error {
  return Object.assign(new Error(message), { name: 'error', length: 200, severity: 'ERROR', file: 'x.c', line: '1', ...fields });
}

/** The exception MikroORM throws for it, made by MikroORM's own converter. */
function mikroOrmError(message: string, fields: Record<string, string | undefined>): Error {
  return new PostgreSqlExceptionConverter().convertException(pgError(message, fields));
}

describe('describeDbError', () => {
  it('describes a unique violation by SQLSTATE and constraint, without the email, the hash or the detail', () => {
    const error = mikroOrmError(
      `insert into "users" ("email", "password_hash", "name", "created_at") values ('${EMAIL}', '${HASH}', 'Ada O''Brien', '2026-12-03T09:54:33.000Z') returning "id" - duplicate key value violates unique constraint "users_email_unique"`,
      {
        code: '23505',
        constraint: 'users_email_unique',
        table: 'users',
        schema: 'public',
        detail: `Key (email)=(${EMAIL}) already exists.`,
      },
    );
    expect(error).toBeInstanceOf(UniqueConstraintViolationException);
    expect(error.message).toContain(EMAIL); // the shape this guards against

    const description = describeDbError(error);

    expect(description).toMatchObject({
      type: 'UniqueConstraintViolationException',
      sqlstate: '23505',
      condition: 'unique_violation',
      constraint: 'users_email_unique',
      table: 'users',
      schema: 'public',
      statement: 'insert into "users" ("email", "password_hash", "name", "created_at") values (?, ?, ?, ?) returning "id"',
    });
    const logged = JSON.stringify(description);
    expect(logged).not.toContain(EMAIL);
    expect(logged).not.toContain('argon2id');
    expect(logged).not.toContain('Brien');
    expect(logged).not.toContain('already exists');
    expect(description?.stack).toMatch(/^\s+at /);
  });

  it('describes an invalid text representation (22P02) without the value pg quotes in its reason', () => {
    const error = mikroOrmError(
      `select "k0".* from "api_keys" as "k0" where "k0"."org_id" = 'not-a-uuid' and "k0"."revoked_at" is null limit 1 - invalid input syntax for type uuid: "not-a-uuid"`,
      { code: '22P02', routine: 'string_to_uuid' },
    );

    const description = describeDbError(error);

    expect(description).toMatchObject({
      sqlstate: '22P02',
      condition: 'invalid_text_representation',
      statement: 'select "k0".* from "api_keys" as "k0" where "k0"."org_id" = ? and "k0"."revoked_at" is null limit ?',
    });
    expect(JSON.stringify(description)).not.toContain('not-a-uuid');
  });

  it('describes a not-null violation by its column, without the failing row', () => {
    const error = mikroOrmError(
      `insert into "memberships" ("org_id", "user_id", "role") values ('0b6e4c1a-2f4e-4c7a-9a55-3f1f3c1d2e4f', NULL, 'admin') - null value in column "user_id" of relation "memberships" violates not-null constraint`,
      {
        code: '23502',
        table: 'memberships',
        column: 'user_id',
        detail: 'Failing row contains (0b6e4c1a-2f4e-4c7a-9a55-3f1f3c1d2e4f, null, admin).',
      },
    );
    expect(error).toBeInstanceOf(NotNullConstraintViolationException);

    const description = describeDbError(error);

    expect(description).toMatchObject({
      type: 'NotNullConstraintViolationException',
      sqlstate: '23502',
      condition: 'not_null_violation',
      table: 'memberships',
      column: 'user_id',
      statement: 'insert into "memberships" ("org_id", "user_id", "role") values (?, NULL, ?)',
    });
    expect(JSON.stringify(description)).not.toContain('0b6e4c1a');
  });

  it('logs no statement when the message has none (pg errors straight from the client)', () => {
    const error = pgError('insert or update on table "keys" violates foreign key constraint "keys_org_id_foreign"', {
      code: '23503',
      constraint: 'keys_org_id_foreign',
    });
    expect(describeDbError(error)).toEqual(expect.objectContaining({ sqlstate: '23503', constraint: 'keys_org_id_foreign' }));
    expect(describeDbError(error)?.statement).toBeUndefined();
  });

  it('recognises a statement quoted by a connection failure, which has no SQLSTATE', () => {
    const error = new Error(`update "users" set "password_hash" = '${HASH}' where "id" = 7 - Connection terminated unexpectedly`);
    expect(isDatabaseError(error)).toBe(true);
    expect(describeDbError(error)?.statement).toBe('update "users" set "password_hash" = ? where "id" = ?');
  });

  it('is null for anything that is not a database error', () => {
    expect(describeDbError(new Error('select a plan first'))).toBeNull();
    expect(describeDbError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeNull();
    expect(describeDbError('insert into x values (1) - oops')).toBeNull();
  });

  it('says it on one line for a log message', () => {
    expect(
      describeDbErrorText({
        type: 'X',
        sqlstate: '23505',
        condition: 'unique_violation',
        constraint: 'c',
        table: 't',
        statement: 'insert ?',
      }),
    ).toBe('database error 23505 unique_violation (constraint c, table t): insert ?');
  });
});

describe('statementWithoutValues', () => {
  it.each([
    [`select 'it''s', E'a\\'b', $$body$$, $tag$x$tag$ from t`, 'select ?, ?, ?, ? from t'],
    [
      `select * from "t1" where "a2" = -42.5e3 and b = 0x1F and c in (1, 2)`,
      'select * from "t1" where "a2" = -? and b = ? and c in (?, ?)',
    ],
    ['select * from t where id = $1 and n = $2', 'select * from t where id = ? and n = ?'],
    [`insert into "x" ("data") values ( E'\\\\x0a0b', B'1010', U&'d\\0061t')`, 'insert into "x" ("data") values ( ?, ?, ?)'],
    [`select "weird""name" from t -- trailing 'comment'`, 'select "weird""name" from t '],
    [`select /* 'secret' */ col1 from t`, 'select /* */ col1 from t'],
  ])('%s', (sql, expected) => {
    expect(statementWithoutValues(sql)).toBe(expected);
  });
});
