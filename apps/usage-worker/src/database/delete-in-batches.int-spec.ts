import { MikroORM } from '@mikro-orm/core';

import { ServiceHarness } from '../../../../test/support/service-harness';
import { BatchedDelete, deleteInBatches } from './delete-in-batches';

describe(deleteInBatches.name, () => {
  let harness: ServiceHarness;
  let orm: MikroORM;

  beforeAll(async () => {
    harness = await ServiceHarness.start();
    orm = harness.get(MikroORM);
  });

  afterAll(async () => {
    await harness?.close();
  });

  beforeEach(async () => {
    await harness.sql('delete from usage_processed_batches');
    await harness.sql('delete from reminders_sent');
  });

  /** `old` batch ids processed 40 days ago (b0001…), `recent` ones an hour ago (r0001…). */
  const insertBatches = async (old: number, recent = 0) => {
    await harness.sql(
      `insert into usage_processed_batches (batch_id, processed_at)
       select 'b' || lpad(g::text, 4, '0'), now() - interval '40 days' from generate_series(1, ?::int) g`,
      [old],
    );
    await harness.sql(
      `insert into usage_processed_batches (batch_id, processed_at)
       select 'r' || lpad(g::text, 4, '0'), now() - interval '1 hour' from generate_series(1, ?::int) g`,
      [recent],
    );
  };
  const remainingBatches = async () =>
    (await harness.sql<{ batch_id: string }>('select batch_id from usage_processed_batches order by batch_id')).map((row) => row.batch_id);
  const oldBatches: BatchedDelete = {
    table: 'usage_processed_batches',
    key: 'batch_id',
    where: `processed_at < now() - ?::interval`,
    params: ['30 days'],
  };

  it('deletes the matching rows over several rounds and keeps the rest', async () => {
    await insertBatches(25, 3);

    await expect(deleteInBatches(orm, oldBatches, { batchSize: 10, maxBatches: 5 })).resolves.toEqual({ deleted: 25, complete: true });
    expect(await remainingBatches()).toEqual(['r0001', 'r0002', 'r0003']);
  });

  it('stops at the round limit and says rows may be left', async () => {
    await insertBatches(25);

    await expect(deleteInBatches(orm, oldBatches, { batchSize: 10, maxBatches: 2 })).resolves.toEqual({ deleted: 20, complete: false });
    expect(await remainingBatches()).toHaveLength(5);
    await expect(deleteInBatches(orm, oldBatches, { batchSize: 10, maxBatches: 2 })).resolves.toEqual({ deleted: 5, complete: true });
  });

  it('tells rows of a several-column key apart by ctid', async () => {
    await harness.sql(
      `insert into reminders_sent (key_id, kind, org_id, sent_at) values
         ('key_a', 'old', 'org_a', now() - interval '3 days'),
         ('key_a', 'new', 'org_a', now()),
         ('key_b', 'old', 'org_a', now() - interval '3 days'),
         ('key_b', 'new', 'org_a', now())`,
    );

    const result = await deleteInBatches(
      orm,
      { table: 'reminders_sent', key: 'ctid', where: 'sent_at < now() - ?::interval', params: ['1 day'] },
      { batchSize: 1, maxBatches: 10 },
    );

    expect(result).toEqual({ deleted: 2, complete: true });
    expect(await harness.sql('select key_id, kind from reminders_sent order by key_id')).toEqual([
      { key_id: 'key_a', kind: 'new' },
      { key_id: 'key_b', kind: 'new' },
    ]);
  });

  it('passes over rows another transaction holds instead of waiting for them', async () => {
    await insertBatches(12);

    // Without `skip locked` this call would wait on the open transaction, which only ends after it.
    const result = await harness.em().transactional(async (tx) => {
      await tx.execute(`select batch_id from usage_processed_batches where batch_id <= 'b0004' for update`);
      return deleteInBatches(orm, oldBatches, { batchSize: 5, maxBatches: 10 });
    });

    expect(result).toEqual({ deleted: 8, complete: true });
    expect(await remainingBatches()).toEqual(['b0001', 'b0002', 'b0003', 'b0004']);
  });

  it('lets two runs at once share the rows: each deleted once, counted once', async () => {
    await insertBatches(400);

    const runs = await Promise.all([
      deleteInBatches(orm, oldBatches, { batchSize: 7, maxBatches: 1_000 }),
      deleteInBatches(orm, oldBatches, { batchSize: 7, maxBatches: 1_000 }),
    ]);

    expect(runs[0].deleted + runs[1].deleted).toBe(400);
    expect(await remainingBatches()).toEqual([]);
  });
});
