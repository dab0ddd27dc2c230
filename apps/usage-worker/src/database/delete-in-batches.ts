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
