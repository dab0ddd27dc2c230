import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { FUTURE_LIMIT_DAYS } from './request-log-partitions.service';
import { retentionDaysByEnvironmentSql } from './request-log-retention';
import { RequestLogRetentionService } from './request-log-retention.service';
import { DAY_MS } from '@latchkey/db';
import { aggregateCounters, CheckedUsageEvent, latestUseByKey, ParsedUsageBatch, requestLogRows } from './usage-batch';

export interface RecordedBatch {
  /** false: the batch id was already recorded, nothing was counted again. */
  counted: boolean;
  /** Events counted for a key (a check without a key or organisation is logged at most). */
  events: CheckedUsageEvent[];
}

/**
 * Writes one usage batch, exactly once, in ONE transaction of at most four statements:
 *  1. record the batch id (`on conflict do nothing`): if it was there, a delivery of
 *     this batch already committed, and this one stops;
 *  2. one multi-row upsert of the counters, aggregated in memory (minute, hour, day
 *     × key × code);
 *  3. one multi-row insert of the request logs, skipping checks already past their
 *     organisation's retention window (a late batch); it never runs DDL: a day
 *     without its partition yet goes to the environment's DEFAULT partition;
 *  4. one update of `api_keys.last_used_at` = greatest(existing, latest check) per key.
 * A crash, stall or error anywhere before commit leaves nothing behind and BullMQ
 * retries the batch; a crash after commit makes the retry stop at step 1. Rows go in
 * as one JSON parameter (`jsonb_to_recordset`): one bind value however large the batch.
 */
@Injectable()
export class UsageLedgerService {
  /** Built once: the defaults are fixed for the process, organisations' own settings are read per row. */
  private readonly logWindowDays: string;

  constructor(
    private readonly orm: MikroORM,
    retention: RequestLogRetentionService,
  ) {
    this.logWindowDays = retentionDaysByEnvironmentSql('o.settings', 'r.environment', {
      test: retention.defaultDays('test'),
      live: retention.defaultDays('live'),
    });
  }

  async record(batch: ParsedUsageBatch, now = new Date()): Promise<RecordedBatch> {
    const counters = aggregateCounters(batch.events);
    const futureLimit = now.getTime() + FUTURE_LIMIT_DAYS * DAY_MS;
    const logs = requestLogRows(batch.events, (_environment, at) => at.getTime() < futureLimit);
    const lastUsed = latestUseByKey(batch.events);
    const em = this.orm.em.fork() as EntityManager;
    const counted = await em.transactional(async (tx) => {
      const inserted = await tx.execute<{ batch_id: string }[]>(
        'insert into usage_processed_batches (batch_id, processed_at) values (?, now()) on conflict do nothing returning batch_id',
        [batch.batchId],
      );
      if (inserted.length === 0) return false;
      if (counters.length > 0) {
        await tx.execute(
          `insert into usage_counters (key_id, granularity, bucket_start, code, org_id, environment, owner_id, count)
           select c.key_id, c.granularity, c.bucket_start, c.code, c.org_id, c.environment, k.owner_id, c.n
             from jsonb_to_recordset(?::jsonb)
               as c(key_id text, granularity text, bucket_start timestamptz, code text, org_id text, environment text, n bigint)
             left join api_keys k on k.id = c.key_id
            -- One lock order for every batch: concurrent upserts never deadlock on each other.
            order by c.key_id, c.granularity, c.bucket_start, c.code
           on conflict (key_id, granularity, bucket_start, code) do update set count = usage_counters.count + excluded.count`,
          [JSON.stringify(counters)],
          'run',
        );
      }
      if (logs.length > 0) {
        await tx.execute(
          `insert into request_logs (id, key_id, org_id, environment, code, ip, method, path, latency_us, at)
           select r.id, r.key_id, r.org_id, r.environment, r.code, r.ip, r.method, r.path, r.latency_us, r.at
             from jsonb_to_recordset(?::jsonb)
               as r(id text, key_id text, org_id text, environment text, code text, ip text, method text, path text, latency_us bigint, at timestamptz)
             left join organizations o on o.id = r.org_id
            -- A check already past its organisation's window (a late batch) would only be deleted again.
            where r.at >= ?::timestamptz - make_interval(days => ${this.logWindowDays})`,
          [JSON.stringify(logs), now],
          'run',
        );
      }
      if (lastUsed.length > 0) {
        await tx.execute(
          `update api_keys k set last_used_at = greatest(k.last_used_at, u.at)
             from jsonb_to_recordset(?::jsonb) as u(key_id text, at timestamptz)
            where k.id = u.key_id and (k.last_used_at is null or k.last_used_at < u.at)`,
          [JSON.stringify(lastUsed)],
          'run',
        );
      }
      return true;
    });
    return { counted, events: batch.events };
  }
}
