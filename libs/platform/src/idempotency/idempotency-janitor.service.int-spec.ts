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

  it('deletes in batches, leaving what is past its limits to the next sweep', async () => {
    await harness.sql("delete from idempotency_records where scope = 'ip:test'");
    await harness.sql(
      `insert into idempotency_records (scope, key, request_hash, created_at, expires_at)
       select 'ip:test', 'batched-' || g, 'h', now() - interval '25 hours', now() - interval '1 hour' from generate_series(1, 5) g`,
    );
    await insertRecord('kept', '1 hour', '23 hours');
    const janitor = harness.get(IdempotencyJanitor);

    // Two statements of two rows each: four of the five expired records.
    expect(await janitor.sweep({ batchSize: 2, maxBatches: 2 })).toBe(4);
    expect((await keys()).filter((key) => key.startsWith('batched-'))).toHaveLength(1);
    expect(await janitor.sweep({ batchSize: 2, maxBatches: 2 })).toBe(1);
    expect(await keys()).toEqual(['kept']);
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
