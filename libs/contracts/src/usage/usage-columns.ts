import type { UsageEvent } from './usage-events.queue';

/**
 * A usage batch's events one array per field, each distinct string stored once:
 * how auth-check sends them. A batch is several times smaller as JSON this way than
 * as one object per event, and the size is what matters on the hot path: the large
 * strings of the batch in flight were caught alive by young-generation collections
 * often enough to be promoted, which meant a full collection every few seconds and a
 * p99 far above the bare route's at half of the peak rate
 * (docs/decisions/0003-usage-batches-as-columns.md).
 */
export interface UsageColumns {
  /** Every distinct string of the batch, once; the string columns hold indexes into it, -1 for null. */
  strings: string[];
  key_id: number[];
  org_id: number[];
  environment: number[];
  code: number[];
  ip: number[];
  method: number[];
  path: number[];
  /** Milliseconds since the epoch of the batch's first event; `at_ms` counts from there. */
  at_base_ms: number;
  at_ms: number[];
  latency_us: number[];
}

const STRING_COLUMNS = ['key_id', 'org_id', 'environment', 'code', 'ip', 'method', 'path'] as const;
const NUMBER_COLUMNS = ['at_ms', 'latency_us'] as const;
const NULL_INDEX = -1;

/** Builds UsageColumns one event at a time (in the order they happened). */
export class UsageColumnsWriter {
  private readonly indexOf = new Map<string, number>();
  private readonly columns: UsageColumns = {
    strings: [],
    key_id: [],
    org_id: [],
    environment: [],
    code: [],
    ip: [],
    method: [],
    path: [],
    at_base_ms: 0,
    at_ms: [],
    latency_us: [],
  };

  get length(): number {
    return this.columns.at_ms.length;
  }

  add(event: Omit<UsageEvent, 'at'>, atMs: number): void {
    const columns = this.columns;
    if (columns.at_ms.length === 0) columns.at_base_ms = atMs;
    columns.key_id.push(this.stringIndex(event.key_id));
    columns.org_id.push(this.stringIndex(event.org_id));
    columns.environment.push(this.stringIndex(event.environment));
    columns.code.push(this.stringIndex(event.code));
    columns.ip.push(this.stringIndex(event.ip));
    columns.method.push(this.stringIndex(event.method));
    columns.path.push(this.stringIndex(event.path));
    columns.at_ms.push(atMs - columns.at_base_ms);
    columns.latency_us.push(event.latency_us);
  }

  finish(): UsageColumns {
    return this.columns;
  }

  private stringIndex(value: string | null): number {
    if (value === null) return NULL_INDEX;
    let index = this.indexOf.get(value);
    if (index === undefined) {
      index = this.columns.strings.push(value) - 1;
      this.indexOf.set(value, index);
    }
    return index;
  }
}

/** The columns of a list of events (the inverse of readUsageColumns): for tools and tests. */
export function usageColumnsOf(events: readonly UsageEvent[]): UsageColumns {
  const writer = new UsageColumnsWriter();
  for (const { at, ...event } of events) writer.add(event, Date.parse(at));
  return writer.finish();
}

/**
 * The events of a batch's columns, in order, one UsageEvent each.
 * Columns that do not fit together (missing, of different lengths, no base time)
 * throw: nothing in them can be trusted. A bad index, time or number spoils only its
 * own event, whose field comes back undefined, 'invalid' or as sent, for the
 * reader's event checks to refuse.
 */
export function readUsageColumns(value: unknown): UsageEvent[] {
  const columns = value as Partial<UsageColumns> | null;
  if (!columns || typeof columns !== 'object') throw new TypeError('usage columns are not an object');
  const strings = columns.strings;
  if (!Array.isArray(strings)) throw new TypeError('usage columns have no strings array');
  const length = Array.isArray(columns.at_ms) ? columns.at_ms.length : -1;
  for (const name of [...STRING_COLUMNS, ...NUMBER_COLUMNS]) {
    const column = columns[name];
    if (!Array.isArray(column) || column.length !== length) throw new TypeError(`usage column ${name} is missing or of another length`);
  }
  const base = columns.at_base_ms;
  if (typeof base !== 'number' || !Number.isFinite(base)) throw new TypeError('usage columns have no at_base_ms');

  // A bad index or time gives undefined or an invalid date: the reader's event checks refuse those.
  const text = (column: number[], row: number): string | null => {
    const index = column[row];
    if (index === NULL_INDEX) return null;
    const found: unknown = Number.isInteger(index) && index >= 0 ? strings[index] : undefined;
    return typeof found === 'string' ? found : (undefined as unknown as string);
  };
  const events: UsageEvent[] = [];
  for (let row = 0; row < length; row += 1) {
    const offset = columns.at_ms![row];
    const at = new Date(typeof offset === 'number' ? base + offset : Number.NaN);
    events.push({
      key_id: text(columns.key_id!, row),
      org_id: text(columns.org_id!, row),
      environment: text(columns.environment!, row) as UsageEvent['environment'],
      code: text(columns.code!, row) as UsageEvent['code'],
      ip: text(columns.ip!, row),
      method: text(columns.method!, row),
      path: text(columns.path!, row),
      at: Number.isNaN(at.getTime()) ? 'invalid' : at.toISOString(),
      latency_us: columns.latency_us![row],
    });
  }
  return events;
}
