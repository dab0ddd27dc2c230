import { isPostgresText, readUsageColumns, UsageBatchJobData, UsageEvent, VERIFY_CODES, VerifyCode } from '@latchkey/contracts';
import { USAGE_BUCKET_MS, USAGE_GRANULARITIES, UsageGranularity } from '@latchkey/db';
import { IdPrefix, isUlidTime, ulidAt } from '@latchkey/ids';

const ENVIRONMENTS = ['test', 'live'] as const;
type Environment = (typeof ENVIRONMENTS)[number];

/** One row of the per-batch counter upsert (key × granularity × bucket × code). */
export interface CounterRow {
  key_id: string;
  granularity: UsageGranularity;
  bucket_start: string;
  code: VerifyCode;
  org_id: string;
  environment: Environment;
  n: number;
}

/**
 * The per-batch request-log insert as columns, one array per field (row i is every
 * array's element i): bound as Postgres arrays and read back with `unnest`, so no row
 * is ever an object or a JSON text.
 */
export interface RequestLogColumns {
  id: string[];
  key_id: (string | null)[];
  org_id: string[];
  environment: Environment[];
  code: VerifyCode[];
  ip: (string | null)[];
  method: (string | null)[];
  path: (string | null)[];
  latency_us: number[];
  /** Milliseconds since the epoch. */
  at_ms: number[];
}

/** A usage event that passed the contract checks, its time parsed. */
export interface CheckedUsageEvent extends UsageEvent {
  atDate: Date;
}

/** An event of the contract's shape that Postgres would refuse, set aside with why. */
export interface QuarantinedUsageEvent {
  event: unknown;
  reason: string;
}

export interface ParsedUsageBatch {
  batchId: string;
  events: CheckedUsageEvent[];
  /** Events that broke the contract; dropped (and logged) rather than blocking the good ones. */
  rejected: number;
  /** Events Postgres would refuse: kept aside for the operator, never in the batch's statements. */
  quarantined: QuarantinedUsageEvent[];
}

/** Thrown for a job that is not a usage batch at all: retrying it cannot help. */
export class MalformedUsageBatchError extends Error {}

/**
 * A batch of the first form, a list of event objects, which the worker no longer counts.
 * The events are whatever the job held: kept for the operator as they came, never checked.
 */
export interface LegacyUsageBatch {
  batchId: string;
  events: unknown[];
}

/** Why a legacy batch's events are in the quarantine: what the operator reads beside each. */
export const LEGACY_BATCH_REASON =
  'sent as an event list, the usage batch form before columns: not counted (drain the queue with the previous release before upgrading)';

/**
 * The job as a batch of the pre-columns form (a batch id and an `events` array, no
 * columns), or null for anything else. Such a job was queued by an auth-check of an
 * earlier release and left behind by an upgrade: it is not malformed, so it must not
 * be failed or dropped, but reading it would keep the old form alive; it is parked.
 */
export function legacyUsageBatch(data: unknown): LegacyUsageBatch | null {
  const batch = data as { batch_id?: unknown; events?: unknown; columns?: unknown } | null;
  if (!batch || typeof batch !== 'object' || batch.columns !== undefined || !Array.isArray(batch.events)) return null;
  if (!isBatchId(batch.batch_id)) return null;
  return { batchId: batch.batch_id, events: batch.events as unknown[] };
}

function isBatchId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 200;
}

/**
 * Checks a job against the UsageBatchJobData contract (a batch id and its columns).
 * A malformed batch throws; a malformed event inside a good batch is dropped, so one
 * bad event never holds back (or endlessly retries) the checks around it.
 */
export function parseUsageBatch(data: unknown): ParsedUsageBatch {
  const batch = data as Partial<UsageBatchJobData> | null;
  if (!batch || !isBatchId(batch.batch_id)) throw new MalformedUsageBatchError('usage batch without a batch_id');
  const batchId = batch.batch_id;
  if (batch.columns === undefined) throw new MalformedUsageBatchError(`usage batch ${batchId} has no columns`);
  let items: UsageEvent[];
  try {
    items = readUsageColumns(batch.columns);
  } catch (error) {
    throw new MalformedUsageBatchError(`usage batch ${batchId}: ${(error as Error).message}`);
  }
  const events: CheckedUsageEvent[] = [];
  const quarantined: QuarantinedUsageEvent[] = [];
  // readUsageColumns checked the columns fit together: each time is read from them, not parsed back from `at`.
  const { at_base_ms: base, at_ms: offsets } = batch.columns;
  for (let row = 0; row < items.length; row += 1) {
    const item = items[row];
    const offset = offsets[row];
    const atMs = typeof offset === 'number' ? base + offset : Number.NaN;
    const checked = checkEvent(item, atMs);
    if (!checked) continue;
    const reason = postgresRefusal(checked);
    if (reason !== null) {
      quarantined.push({ event: item, reason });
      continue;
    }
    // The reader's own fresh object: it gains its parsed time rather than being copied.
    const counted = checked as CheckedUsageEvent;
    counted.atDate = new Date(atMs);
    events.push(counted);
  }
  return { batchId, events, rejected: items.length - events.length - quarantined.length, quarantined };
}

const TEXT_FIELDS = ['key_id', 'org_id', 'ip', 'method', 'path'] as const;

/** Why Postgres would refuse this event's row (and with it the whole statement), or null. */
export function postgresRefusal(event: UsageEvent): string | null {
  for (const field of TEXT_FIELDS) {
    const value = event[field];
    if (value !== null && !isPostgresText(value)) return `${field} holds a NUL byte or an unpaired surrogate`;
  }
  // Written as a bigint; past 2^53 a JS number is no longer an exact integer either.
  if (event.latency_us > Number.MAX_SAFE_INTEGER) return 'latency_us is out of range';
  return null;
}

function checkEvent(value: unknown, atMs: number): UsageEvent | null {
  if (!value || typeof value !== 'object') return null;
  const event = value as UsageEvent;
  if (!VERIFY_CODES.includes(event.code)) return null;
  if (typeof event.at !== 'string') return null;
  // A time a ULID cannot encode would fail the whole batch's log ids.
  if (!isUlidTime(atMs)) return null;
  if (typeof event.latency_us !== 'number' || !Number.isFinite(event.latency_us) || event.latency_us < 0) return null;
  if (!isNullableString(event.key_id) || !isNullableString(event.org_id)) return null;
  if (!isNullableString(event.ip) || !isNullableString(event.method) || !isNullableString(event.path)) return null;
  if (event.environment !== null && !ENVIRONMENTS.includes(event.environment)) return null;
  return event;
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/**
 * The counter rows of a batch, aggregated in memory: one row per key, granularity,
 * bucket and code however many checks it holds. Sorted by primary key so concurrent
 * upserts lock rows in the same order (no deadlocks between batches). Checks
 * without a key or an organisation (malformed or unknown keys) belong to no
 * tenant's usage and are not counted here.
 *
 * Each check is looked at once, for its minute; the hour and day rows are summed from
 * the minute rows, and each bucket's time is formatted once per batch, not per check.
 */
export function aggregateCounters(events: CheckedUsageEvent[]): CounterRow[] {
  const minutes = new Map<string, { event: CheckedUsageEvent; minuteMs: number; n: number }>();
  const minuteMs = USAGE_BUCKET_MS.minute;
  for (const event of events) {
    if (!event.key_id || !event.org_id || !event.environment) continue;
    const bucket = Math.floor(event.atDate.getTime() / minuteMs) * minuteMs;
    const id = `${event.key_id}\u0000${event.code}\u0000${bucket}`;
    const row = minutes.get(id);
    if (row) row.n += 1;
    else minutes.set(id, { event, minuteMs: bucket, n: 1 });
  }
  const bucketText = new Map<number, string>();
  const textOf = (ms: number): string => {
    let text = bucketText.get(ms);
    if (text === undefined) {
      text = new Date(ms).toISOString();
      bucketText.set(ms, text);
    }
    return text;
  };
  const rows = new Map<string, CounterRow>();
  for (const { event, minuteMs: bucket, n } of minutes.values()) {
    for (const granularity of USAGE_GRANULARITIES) {
      const size = USAGE_BUCKET_MS[granularity];
      const bucketStart = textOf(Math.floor(bucket / size) * size);
      const id = `${event.key_id}\u0000${granularity}\u0000${bucketStart}\u0000${event.code}`;
      const row = rows.get(id);
      if (row) row.n += n;
      else {
        rows.set(id, {
          key_id: event.key_id!,
          granularity,
          bucket_start: bucketStart,
          code: event.code,
          org_id: event.org_id!,
          environment: event.environment!,
          n,
        });
      }
    }
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/** The latest check time per key, sorted by key id (same lock order as above). */
export function latestUseByKey(events: CheckedUsageEvent[]): { key_id: string; at: string }[] {
  const latest = new Map<string, number>();
  for (const event of events) {
    if (!event.key_id) continue;
    const at = event.atDate.getTime();
    const seen = latest.get(event.key_id);
    if (seen === undefined || seen < at) latest.set(event.key_id, at);
  }
  return [...latest.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([keyId, at]) => ({ key_id: keyId, at: new Date(at).toISOString() }));
}

/**
 * The request-log rows of a batch, as columns: every check that belongs to an
 * organisation and an environment, except those `keepLog` refuses (past retention:
 * their day's partition is gone, or about to be). The id is a ULID of the check's
 * time, so logs list newest first by id.
 */
export function requestLogColumns(
  events: CheckedUsageEvent[],
  keepLog: (environment: Environment, at: Date) => boolean,
): RequestLogColumns {
  const columns: RequestLogColumns = {
    id: [],
    key_id: [],
    org_id: [],
    environment: [],
    code: [],
    ip: [],
    method: [],
    path: [],
    latency_us: [],
    at_ms: [],
  };
  for (const event of events) {
    if (!event.org_id || !event.environment || !keepLog(event.environment, event.atDate)) continue;
    const atMs = event.atDate.getTime();
    columns.id.push(`${IdPrefix.Request}_${ulidAt(atMs)}`);
    columns.key_id.push(event.key_id);
    columns.org_id.push(event.org_id);
    columns.environment.push(event.environment);
    columns.code.push(event.code);
    columns.ip.push(event.ip);
    columns.method.push(event.method);
    columns.path.push(event.path);
    columns.latency_us.push(Math.round(event.latency_us));
    columns.at_ms.push(atMs);
  }
  return columns;
}
