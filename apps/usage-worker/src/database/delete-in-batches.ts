import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';

import { IdPrefix } from '@latchkey/ids';

import { idCreatedBefore } from '../retention/id-created-before';

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

/**
 * Runs `statement` — a DELETE of at most `?` rows, that `?` being its LAST
 * placeholder — until a round deletes fewer than a batch, or `maxBatches` rounds ran.
 * Each round is its own short statement (its own transaction), so pruning never holds
 * locks on many rows at once and the usage batches written meanwhile interleave.
 */
export async function deleteInBatches(
  orm: MikroORM,
  statement: string,
  params: unknown[],
  limits: BatchedDeleteLimits = DEFAULT_DELETE_LIMITS,
): Promise<BatchedDeleteResult> {
  const em = orm.em.fork() as EntityManager;
  let deleted = 0;
  for (let round = 0; round < limits.maxBatches; round += 1) {
    const result = await em.execute<{ affectedRows?: number }>(statement, [...params, limits.batchSize], 'run');
    const affected = result.affectedRows ?? 0;
    deleted += affected;
    if (affected < limits.batchSize) return { deleted, complete: true };
  }
  return { deleted, complete: false };
}

/** Rows of `table` that ended (`ended`, an SQL condition with its own `?` params) before `before`. */
export interface EndedRows {
  table: string;
  idPrefix: IdPrefix;
  before: Date;
  /** e.g. `relayed_at < ?`; it names only columns of `table`. */
  ended: string;
  endedParams: unknown[];
}

/**
 * Deletes, in batches, the rows of `table` that ended before `before`. A row ends after it
 * is created and its id begins with its creation time, so the id range (the primary key)
 * bounds the scan without an index of its own. `= any(array(…))`, not `in (…)`: with `in`
 * the planner may hash the batch and scan the whole table for it. `skip locked` passes over
 * rows another worker (or a retry by hand) holds meanwhile.
 */
export function deleteEndedRows(
  orm: MikroORM,
  rows: EndedRows,
  limits: BatchedDeleteLimits = DEFAULT_DELETE_LIMITS,
): Promise<BatchedDeleteResult> {
  return deleteInBatches(
    orm,
    `delete from ${rows.table} where id = any(array(
       select id from ${rows.table} where id < ? and (${rows.ended}) limit ? for update skip locked))`,
    [idCreatedBefore(rows.idPrefix, rows.before), ...rows.endedParams],
    limits,
  );
}
