import { MikroORM } from '@mikro-orm/core';

import { IdPrefix, ulidLowerBoundAt } from '@latchkey/ids';
import { BatchedDeleteLimits, BatchedDeleteResult, DEFAULT_DELETE_LIMITS, deleteInBatches } from '@latchkey/platform';

// The batched DELETE itself is the platform's, shared with the idempotency janitor.
export type { BatchedDelete, BatchedDeleteLimits, BatchedDeleteResult } from '@latchkey/platform';
export { DEFAULT_DELETE_LIMITS, deleteInBatches } from '@latchkey/platform';

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
 * bounds the scan without an index of its own.
 */
export function deleteEndedRows(
  orm: MikroORM,
  rows: EndedRows,
  limits: BatchedDeleteLimits = DEFAULT_DELETE_LIMITS,
): Promise<BatchedDeleteResult> {
  return deleteInBatches(
    orm,
    {
      table: rows.table,
      key: 'id',
      where: `id < ? and (${rows.ended})`,
      params: [`${rows.idPrefix}_${ulidLowerBoundAt(rows.before.getTime())}`, ...rows.endedParams],
    },
    limits,
  );
}
