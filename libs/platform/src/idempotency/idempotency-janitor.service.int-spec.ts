import { MikroORM } from '@mikro-orm/core';

import { ServiceHarness } from '../../../../test/support/service-harness';
import { IdempotencyJanitor } from './idempotency-janitor.service';

describe(IdempotencyJanitor.name, () => {
  let harness: ServiceHarness;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [IdempotencyJanitor] });
  });

  afterAll(async () => {
    await harness?.close();
  });

  const insertRecord = (key: string, createdAgo: string, expiresIn: string) =>
    harness.sql(
      `insert into idempotency_records (scope, key, request_hash, created_at, expires_at)
       values ('ip:test', ?, 'h', now() - ?::interval, now() + ?::interval)`,
      [key, createdAgo, expiresIn],
    );
  const keys = async () =>
    (await harness.sql<{ key: string }>("select key from idempotency_records where scope = 'ip:test' order by key")).map((row) => row.key);

  it('sweeps records past their 24 hours and keeps the rest, counting what it removed', async () => {
    await insertRecord('expired-a', '25 hours', '-1 hour');
    await insertRecord('expired-b', '30 hours', '-6 hours');
    await insertRecord('fresh', '1 hour', '23 hours');
    await insertRecord('about-to-expire', '23 hours 59 minutes', '1 minute');

    expect(await harness.get(IdempotencyJanitor).sweep()).toBe(2);
    expect(await keys()).toEqual(['about-to-expire', 'fresh']);
    // A second sweep finds nothing more: overlapping sweeps of several processes are harmless.
    expect(await harness.get(IdempotencyJanitor).sweep()).toBe(0);
  });

  it('answers 0 and throws nothing when Postgres cannot be reached: the next sweep tries again', async () => {
    const cut = await ServiceHarness.start({ providers: [IdempotencyJanitor] });
    try {
      await cut.get(MikroORM).close();
      await expect(cut.get(IdempotencyJanitor).sweep()).resolves.toBe(0);
    } finally {
      await cut.close();
    }
  });
});
