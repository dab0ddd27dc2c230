import { MikroORM } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';

import { USAGE_JOB_OPTIONS } from '@latchkey/contracts';
import { DAY_MS, USAGE_COUNTER_RETENTION_DAYS, UsageGranularity } from '@latchkey/db';

import { deleteInBatches } from '../database/delete-in-batches';

/**
 * The longest a usage batch can come back after its first delivery: BullMQ's
 * exponential back-off waits `delay × 2^(n-1)` before retry n, for `attempts - 1`
 * retries (20 attempts from 1 s: about six days).
 */
export function usageRedeliveryWindowMs(options: { attempts: number; backoff: { delay: number } } = USAGE_JOB_OPTIONS): number {
  let total = 0;
  for (let retry = 1; retry < options.attempts; retry += 1) total += options.backoff.delay * 2 ** (retry - 1);
  return total;
}

/**
 * How long a counted batch's id is remembered: well past the redelivery window (at
 * least twice it; a unit test holds the two together), since a batch redelivered
 * after its id is forgotten would be counted again.
 */
export const PROCESSED_BATCH_RETENTION_DAYS = 30;

export interface UsageHistoryPruneRun {
  counters: Partial<Record<UsageGranularity, number>>;
  processedBatches: number;
}

/**
 * Prunes what metering would otherwise keep forever: minute and hour counters past
 * USAGE_COUNTER_RETENTION_DAYS (day counters are kept), and the ids of batches
 * counted too long ago to be redelivered. Bounded batches, run by the usage
 * maintenance job.
 */
@Injectable()
export class UsageHistoryPruner {
  constructor(private readonly orm: MikroORM) {}

  async prune(now: Date): Promise<UsageHistoryPruneRun> {
    const counters: UsageHistoryPruneRun['counters'] = {};
    for (const [granularity, days] of Object.entries(USAGE_COUNTER_RETENTION_DAYS) as [UsageGranularity, number | null][]) {
      if (days === null) continue;
      // The granularity is a literal from a fixed map, so the planner matches usage_counters_prunable_index.
      const result = await deleteInBatches(this.orm, {
        table: 'usage_counters',
        key: 'ctid',
        where: `granularity = '${granularity}' and bucket_start < ?`,
        params: [new Date(now.getTime() - days * DAY_MS)],
      });
      counters[granularity] = result.deleted;
    }
    const batches = await deleteInBatches(this.orm, {
      table: 'usage_processed_batches',
      key: 'batch_id',
      where: 'processed_at < ?',
      params: [new Date(now.getTime() - PROCESSED_BATCH_RETENTION_DAYS * DAY_MS)],
    });
    return { counters, processedBatches: batches.deleted };
  }
}
