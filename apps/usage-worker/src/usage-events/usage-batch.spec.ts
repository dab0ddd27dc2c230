import { usageBatchOf, usageColumnsOf, UsageEvent } from '@latchkey/contracts';

import {
  aggregateCounters,
  latestUseByKey,
  LEGACY_BATCH_REASON,
  legacyUsageBatch,
  MalformedUsageBatchError,
  parseUsageBatch,
  requestLogColumns,
} from './usage-batch';

function event(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    key_id: 'key_A',
    org_id: 'org_A',
    environment: 'test',
    code: 'VALID',
    ip: null,
    method: null,
    path: null,
    at: '2026-11-23T10:15:30.000Z',
    latency_us: 10,
    ...overrides,
  };
}

const batch = (events: UsageEvent[], batchId = 'b') => usageBatchOf(batchId, events);

describe('usage batches', () => {
  it('aggregates checks into one row per key, granularity, bucket and code', () => {
    const { events } = parseUsageBatch(
      batch([event(), event(), event({ code: 'RATE_LIMITED' }), event({ at: '2026-11-23T10:16:00.000Z' }), event({ key_id: 'key_B' })]),
    );
    const rows = aggregateCounters(events);
    const of = (keyId: string, granularity: string) =>
      rows.filter((row) => row.key_id === keyId && row.granularity === granularity).map((row) => [row.bucket_start, row.code, row.n]);
    expect(of('key_A', 'minute')).toEqual([
      ['2026-11-23T10:15:00.000Z', 'RATE_LIMITED', 1],
      ['2026-11-23T10:15:00.000Z', 'VALID', 2],
      ['2026-11-23T10:16:00.000Z', 'VALID', 1],
    ]);
    expect(of('key_A', 'hour')).toEqual([
      ['2026-11-23T10:00:00.000Z', 'RATE_LIMITED', 1],
      ['2026-11-23T10:00:00.000Z', 'VALID', 3],
    ]);
    expect(of('key_B', 'day')).toEqual([['2026-11-23T00:00:00.000Z', 'VALID', 1]]);
    expect(rows.reduce((sum, row) => (row.granularity === 'day' ? sum + row.n : sum), 0)).toBe(5);
  });

  it('counts no key for checks without one, but logs those of an organisation', () => {
    const { events } = parseUsageBatch(
      batch([event({ key_id: null, code: 'NOT_FOUND' }), event({ key_id: null, org_id: null, environment: null })]),
    );
    expect(aggregateCounters(events)).toEqual([]);
    expect(requestLogColumns(events, () => true).code).toEqual(['NOT_FOUND']);
    expect(requestLogColumns(events, () => false).id).toEqual([]);
  });

  it('keeps the latest check per key', () => {
    const { events } = parseUsageBatch(
      batch([
        event({ at: '2026-11-23T10:00:00.000Z' }),
        event({ at: '2026-11-23T11:00:00.000Z' }),
        event({ at: '2026-11-23T09:00:00.000Z' }),
      ]),
    );
    expect(latestUseByKey(events)).toEqual([{ key_id: 'key_A', at: '2026-11-23T11:00:00.000Z' }]);
  });

  it('gives log rows ids that sort by check time', () => {
    const { events } = parseUsageBatch(batch([event({ at: '2026-11-23T10:00:01.000Z' }), event({ at: '2026-11-23T10:00:00.000Z' })]));
    const [later, earlier] = requestLogColumns(events, () => true).id;
    expect(later > earlier).toBe(true);
    expect(later).toMatch(/^req_[0-9A-Z]{26}$/);
  });

  it('refuses a batch without an id or columns, and drops events that break the contract', () => {
    expect(() => parseUsageBatch({ columns: usageColumnsOf([]) })).toThrow(MalformedUsageBatchError);
    expect(() => parseUsageBatch({ batch_id: 'b' })).toThrow(MalformedUsageBatchError);
    const parsed = parseUsageBatch(
      batch([
        event(),
        event({ code: 'NOPE' as never }),
        event({ at: 'soon' }),
        event({ at: '1969-12-31T23:59:59.999Z' }),
        // Past what a ULID's 48-bit time holds: its request log id could not be made.
        event({ at: '+012000-01-01T00:00:00.000Z' }),
        event({ latency_us: -1 }),
        event({ environment: 'prod' as never }),
      ]),
    );
    expect(parsed.events).toHaveLength(1);
    expect(parsed.rejected).toBe(6);
    expect(parsed.quarantined).toEqual([]);
  });

  it('quarantines events Postgres would refuse, with why, and keeps the rest of the batch', () => {
    const poisoned = [
      event({ path: '/v1/a\u0000b' }),
      event({ method: 'GET\ud800' }),
      event({ ip: '\udc00' }),
      event({ latency_us: 1e30 }),
    ];
    const parsed = parseUsageBatch(batch([event(), ...poisoned, event({ path: '/v1/😀' })]));
    expect(parsed.events.map((checked) => checked.path)).toEqual([null, '/v1/😀']);
    expect(parsed.rejected).toBe(0);
    expect(parsed.quarantined.map((q) => q.event)).toEqual(poisoned);
    expect(parsed.quarantined.map((q) => q.reason)).toEqual([
      'path holds a NUL byte or an unpaired surrogate',
      'method holds a NUL byte or an unpaired surrogate',
      'ip holds a NUL byte or an unpaired surrogate',
      'latency_us is out of range',
    ]);
  });

  it('refuses columns that do not fit together, and drops a column event that breaks the contract', () => {
    const columns = usageColumnsOf([event(), event({ code: 'RATE_LIMITED' })]);
    expect(() => parseUsageBatch({ batch_id: 'b', columns: { ...columns, code: [0] } })).toThrow(MalformedUsageBatchError);
    expect(() => parseUsageBatch({ batch_id: 'b', columns: 'not columns' })).toThrow(MalformedUsageBatchError);
    const parsed = parseUsageBatch({ batch_id: 'b', columns: { ...columns, code: [columns.code[0], 1_000] } });
    expect(parsed.events.map((checked) => checked.code)).toEqual(['VALID']);
    expect(parsed.rejected).toBe(1);
  });

  it('no longer reads the pre-columns form, and tells it apart for parking', () => {
    const events = [event(), event({ code: 'NOT_FOUND', key_id: null })];
    expect(() => parseUsageBatch({ batch_id: 'b', events })).toThrow(MalformedUsageBatchError);
    expect(legacyUsageBatch({ batch_id: 'b', events })).toEqual({ batchId: 'b', events });
    // Kept as it came, whatever it holds: the operator judges it, not the worker.
    expect(legacyUsageBatch({ batch_id: 'b', events: [null, 'x'] })).toEqual({ batchId: 'b', events: [null, 'x'] });
    expect(legacyUsageBatch(batch(events))).toBeNull();
    expect(legacyUsageBatch({ batch_id: 'b', events, columns: usageColumnsOf(events) })).toBeNull();
    expect(legacyUsageBatch({ events })).toBeNull();
    expect(legacyUsageBatch({ batch_id: '', events })).toBeNull();
    expect(legacyUsageBatch({ batch_id: 'b', events: 'many' })).toBeNull();
    expect(legacyUsageBatch(null)).toBeNull();
    expect(LEGACY_BATCH_REASON).toMatch(/drain the queue/);
  });
});
