import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';

export interface BatchedDeleteLimits {
  /** Rows per statement. */
  batchSize: number;
  /** Statements per call; what is left waits for the next maintenance run. */
  maxBatches: number;
}

export const DEFAULT_DELETE_LIMITS: BatchedDeleteLimits = { batchSize: 5_000, maxBatches: 100 };

export interface BatchedDeleteResult {
  deleted: number;
  /** false: stopped at maxBatches with rows possibly left. */
  complete: boolean;
}

/** Which rows of one table to delete; the statement around them is deleteInBatches' own. */
export interface BatchedDelete {
  /** A trusted table name (a literal of the caller's, never input). */
  table: string;
  /**
   * One column that tells the rows apart. A table whose key spans several columns gives
   * `ctid`, which is unique only in a table that is not partitioned (a leaf partition is fine).
   */
  key: string;
  /** An SQL condition on the table's columns, its values as `?` placeholders in `params`. */
  where: string;
  params: unknown[];
}

/**
 * Deletes the rows `rows` names, at most `batchSize` per statement, until a round deletes
 * fewer than a batch or `maxBatches` rounds ran. Each round is its own short statement
 * (its own transaction), so pruning never holds locks on many rows at once and writes
 * meanwhile interleave. The statement shape is fixed here so that no pruner drifts from it:
 *  - `key = any(array(…))`, not `in (…)`: with `in` the planner may hash the batch and scan
 *    the whole table for it, while an array is looked up through the key's index (or by tid);
 *  - `for update skip locked`: two copies of the worker running at once take disjoint
 *    batches instead of one waiting on the other's, so neither blocks and no row is counted
 *    twice; a round short of a batch then means the rest is gone or being deleted by the other;
 *  - `where` again outside: a row changed since the batch was chosen is left alone, and a
 *    condition on a partition key prunes the partitions the DELETE itself visits.
 */
export async function deleteInBatches(
  orm: MikroORM,
  rows: BatchedDelete,
  limits: BatchedDeleteLimits = DEFAULT_DELETE_LIMITS,
): Promise<BatchedDeleteResult> {
  const { table, key, where, params } = rows;
  const statement = `delete from ${table} where (${where}) and ${key} = any(array(
       select ${key} from ${table} where (${where}) limit ? for update skip locked))`;
  const em = orm.em.fork() as EntityManager;
  let deleted = 0;
  for (let round = 0; round < limits.maxBatches; round += 1) {
    const result = await em.execute<{ affectedRows?: number }>(statement, [...params, ...params, limits.batchSize], 'run');
    const affected = result.affectedRows ?? 0;
    deleted += affected;
    if (affected < limits.batchSize) return { deleted, complete: true };
  }
  return { deleted, complete: false };
}
