import { setImmediate as nextTurn } from 'node:timers/promises';

import { MikroORM } from '@mikro-orm/core';
import { Knex } from '@mikro-orm/knex';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { UsageEvent } from '@latchkey/contracts';
import { DAY_MS } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';

import { FUTURE_LIMIT_DAYS } from './request-log-partitions.service';
import { retentionDaysByEnvironmentSql } from './request-log-retention';
import { RequestLogRetentionService } from './request-log-retention.service';
import {
  aggregateCounters,
  CheckedUsageEvent,
  CounterRow,
  latestUseByKey,
  LEGACY_BATCH_REASON,
  LegacyUsageBatch,
  ParsedUsageBatch,
  QuarantinedUsageEvent,
  requestLogColumns,
  RequestLogColumns,
} from './usage-batch';

export interface RecordedBatch {
  /** false: the batch id was already recorded, nothing was counted again. */
  counted: boolean;
  /** Events counted for a key (a check without a key or organisation is logged at most). */
  events: CheckedUsageEvent[];
  /** Events set aside because Postgres refuses them (found before writing, or by the write failing). */
  quarantined: QuarantinedUsageEvent[];
}

/**
 * The arrays each statement binds, with the Postgres array type it casts each to: the
 * statements and the probe that finds a refused event read them through the same
 * `unnest(...)`, so a value one refuses the other refuses too.
 */
const COUNTER_UNNEST =
  'unnest(?::text[], ?::text[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::bigint[]) ' +
  'as c(key_id, granularity, bucket_start, code, org_id, environment, n)';
const LOG_UNNEST =
  'unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[]) ' +
  'as u(id, key_id, org_id, environment, code, ip, method, path, latency_us, at_ms)';
const LAST_USED_UNNEST = 'unnest(?::text[], ?::timestamptz[]) as u(key_id, at)';

/** One bound array per column. */
type Arrays = Knex.Value[];

/**
 * A column as a bound array. pg binds arrays holding nulls or mixed numbers and strings
 * as it binds any other array; knex's `Value` type simply does not list them.
 */
function column(values: readonly (string | number | null)[]): Knex.Value {
  return values as unknown as Knex.Value;
}

function counterArrays(rows: CounterRow[]): Arrays {
  const columns: (string | number)[][] = [[], [], [], [], [], [], []];
  for (const row of rows) {
    columns[0].push(row.key_id);
    columns[1].push(row.granularity);
    columns[2].push(row.bucket_start);
    columns[3].push(row.code);
    columns[4].push(row.org_id);
    columns[5].push(row.environment);
    columns[6].push(row.n);
  }
  return columns.map(column);
}

function logArrays(logs: RequestLogColumns): Arrays {
  return [logs.id, logs.key_id, logs.org_id, logs.environment, logs.code, logs.ip, logs.method, logs.path, logs.latency_us, logs.at_ms].map(
    column,
  );
}

function lastUsedArrays(rows: { key_id: string; at: string }[]): Arrays {
  return [rows.map((row) => row.key_id), rows.map((row) => row.at)];
}

/** SQLSTATE class 22, data exception: the value itself is what Postgres refuses, so retrying cannot help. */
function isDataException(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
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
 * as columns, one bound array per field read back with `unnest` (decision 0012): no row
 * object, no JSON text, and no copy of the data spliced into the statement's text.
 *
 * One value Postgres refuses fails the statement, and with it every tenant's checks
 * in the batch. parseUsageBatch sets the known cases aside; should Postgres still
 * refuse the batch's data (SQLSTATE class 22), the events it refuses are found by
 * bisection with read-only probes and quarantined, and the rest is counted, once.
 * Quarantined events are stored in the batch's own transaction.
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
    try {
      return await this.write(batch, now);
    } catch (error) {
      if (!isDataException(error)) throw error;
      const refused = await this.refusedEvents(batch.events);
      if (refused.size === 0) throw error;
      const events = batch.events.filter((event) => !refused.has(event));
      const quarantined = [...batch.quarantined, ...[...refused].map(([event, reason]) => ({ event: withoutAtDate(event), reason }))];
      return this.write({ ...batch, events, quarantined }, now);
    }
  }

  private async write(batch: ParsedUsageBatch, now: Date): Promise<RecordedBatch> {
    // Built a turn at a time (see RecordUsageProcessor), before the transaction holds a connection.
    const counters = aggregateCounters(batch.events);
    await nextTurn();
    const futureLimit = now.getTime() + FUTURE_LIMIT_DAYS * DAY_MS;
    const logs = requestLogColumns(batch.events, (_environment, at) => at.getTime() < futureLimit);
    const lastUsed = latestUseByKey(batch.events);
    await nextTurn();
    const em = this.orm.em.fork() as EntityManager;
    const counted = await em.transactional(async (tx) => {
      const inserted = await tx.execute<{ batch_id: string }[]>(
        'insert into usage_processed_batches (batch_id, processed_at) values (?, now()) on conflict do nothing returning batch_id',
        [batch.batchId],
      );
      if (inserted.length === 0) return false;
      // Bound parameters through the transaction's own connection: MikroORM's execute would
      // splice every value into the statement's text, the batch's whole data escaped and copied.
      const trx = tx.getTransactionContext<Knex.Transaction>()!;
      if (counters.length > 0) {
        await trx.raw(
          `insert into usage_counters (key_id, granularity, bucket_start, code, org_id, environment, owner_id, count)
           select c.key_id, c.granularity, c.bucket_start, c.code, c.org_id, c.environment, k.owner_id, c.n
             from ${COUNTER_UNNEST}
             left join api_keys k on k.id = c.key_id
            -- One lock order for every batch: concurrent upserts never deadlock on each other.
            order by c.key_id, c.granularity, c.bucket_start, c.code
           on conflict (key_id, granularity, bucket_start, code) do update set count = usage_counters.count + excluded.count`,
          counterArrays(counters),
        );
      }
      if (logs.id.length > 0) {
        await trx.raw(
          `insert into request_logs (id, key_id, org_id, environment, code, ip, method, path, latency_us, at)
           select r.id, r.key_id, r.org_id, r.environment, r.code, r.ip, r.method, r.path, r.latency_us, r.at
             from (select u.*, timestamptz 'epoch' + u.at_ms * interval '1 millisecond' as at from ${LOG_UNNEST}) as r
             left join organizations o on o.id = r.org_id
            -- A check already past its organisation's window (a late batch) would only be deleted again.
            where r.at >= ?::timestamptz - make_interval(days => ${this.logWindowDays})`,
          [...logArrays(logs), now],
        );
      }
      if (lastUsed.length > 0) {
        await trx.raw(
          `update api_keys k set last_used_at = greatest(k.last_used_at, u.at)
             from ${LAST_USED_UNNEST}
            where k.id = u.key_id and (k.last_used_at is null or k.last_used_at < u.at)`,
          lastUsedArrays(lastUsed),
        );
      }
      if (batch.quarantined.length > 0) await this.quarantine(tx, batch.batchId, batch.quarantined);
      return true;
    });
    return { counted, events: batch.events, quarantined: batch.quarantined };
  }

  /**
   * Keeps a batch of the pre-columns form for the operator: each of its events, as it
   * came, in the quarantine with LEGACY_BATCH_REASON, and nothing counted. The batch id
   * is not recorded as processed, so the same checks re-sent as columns are still
   * counted (once). A redelivered batch is kept once: batches of one id take turns on
   * a transaction lock, and one already parked adds nothing. Returns how many events
   * were kept now (0 for a batch parked before).
   */
  async parkLegacyBatch(batch: LegacyUsageBatch): Promise<number> {
    const em = this.orm.em.fork() as EntityManager;
    return em.transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`usage-legacy-batch:${batch.batchId}`]);
      const parked = await tx.execute<{ n: string }[]>(
        'select count(*) as n from usage_quarantined_events where batch_id = ? and reason = ?',
        [batch.batchId, LEGACY_BATCH_REASON],
      );
      if (Number(parked[0].n) > 0 || batch.events.length === 0) return 0;
      await this.quarantine(
        tx,
        batch.batchId,
        batch.events.map((event) => ({ event, reason: LEGACY_BATCH_REASON })),
      );
      return batch.events.length;
    });
  }

  private async quarantine(tx: EntityManager, batchId: string, quarantined: QuarantinedUsageEvent[]): Promise<void> {
    // JSON.stringify leaves a NUL or a lone surrogate as a `\u` escape: the text is always storable.
    const rows = quarantined.map((q) => ({
      id: newId(IdPrefix.QuarantinedUsageEvent),
      reason: q.reason,
      event: JSON.stringify(q.event),
    }));
    await tx.execute(
      `insert into usage_quarantined_events (id, batch_id, reason, event, quarantined_at)
       select q.id, ?, q.reason, q.event, now() from jsonb_to_recordset(?::jsonb) as q(id text, reason text, event text)`,
      [batchId, JSON.stringify(rows)],
      'run',
    );
  }

  /**
   * The events whose rows Postgres refuses, each with its error: halves of the batch are
   * cast as the batch's statements cast them, without writing, down to single events.
   * Costs about 2 × log2(batch size) small queries per refused event, and runs only
   * after a batch failed on its data.
   */
  private async refusedEvents(events: CheckedUsageEvent[]): Promise<Map<CheckedUsageEvent, string>> {
    const refused = new Map<CheckedUsageEvent, string>();
    const visit = async (slice: CheckedUsageEvent[]): Promise<void> => {
      const error = await this.probe(slice);
      if (error === null) return;
      if (slice.length === 1) {
        refused.set(slice[0], `Postgres refused the event (SQLSTATE ${error.code})`);
        return;
      }
      const middle = slice.length >> 1;
      await visit(slice.slice(0, middle));
      await visit(slice.slice(middle));
    };
    if (events.length > 0) await visit(events);
    return refused;
  }

  private async probe(events: CheckedUsageEvent[]): Promise<{ code: string } | null> {
    const knex = (this.orm.em.getConnection() as unknown as { getKnex(): Knex }).getKnex();
    const casts: [string, Arrays][] = [
      [COUNTER_UNNEST, counterArrays(aggregateCounters(events))],
      [LOG_UNNEST, logArrays(requestLogColumns(events, () => true))],
      [LAST_USED_UNNEST, lastUsedArrays(latestUseByKey(events))],
    ];
    try {
      for (const [from, arrays] of casts) {
        // Every column is read, so every value is cast as the real statement casts it.
        await knex.raw(`select count(t.*) from (select * from ${from}) as t`, arrays);
      }
      return null;
    } catch (error) {
      if (isDataException(error)) return { code: error.code };
      throw error;
    }
  }
}

/** The event as it arrived: the parsed time is the worker's own. */
function withoutAtDate(event: CheckedUsageEvent): UsageEvent {
  const { key_id, org_id, environment, code, ip, method, path, at, latency_us } = event;
  return { key_id, org_id, environment, code, ip, method, path, at, latency_us };
}
