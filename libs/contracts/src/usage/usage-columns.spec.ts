import { readUsageColumns, usageColumnsOf } from './usage-columns';
import { UsageBatchJobData, usageBatchOf, UsageEvent, usageEventsOf } from './usage-events.queue';

const AT = Date.UTC(2026, 10, 30, 9, 0, 0, 125);

function event(index: number, overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    key_id: index % 4 === 0 ? null : `key_${index % 3}`,
    org_id: index % 4 === 0 ? null : 'org_1',
    environment: index % 4 === 0 ? null : index % 2 === 0 ? 'test' : 'live',
    code: index % 4 === 0 ? 'NOT_FOUND' : 'VALID',
    ip: index % 5 === 0 ? null : `203.0.113.${index % 7}`,
    method: index % 6 === 0 ? null : 'GET',
    path: `/items/${index % 9}`,
    at: new Date(AT + index * 3).toISOString(),
    latency_us: 40 + index,
    ...overrides,
  };
}

describe('usage columns', () => {
  it('read back every field of every event, in order, nulls included', () => {
    const events = Array.from({ length: 60 }, (_, index) => event(index));
    expect(readUsageColumns(usageColumnsOf(events))).toEqual(events);
  });

  it('store each distinct string once, and take a fraction of the event list’s size', () => {
    const events = Array.from({ length: 500 }, (_, index) => event(index));
    const columns = usageColumnsOf(events);
    expect(new Set(columns.strings).size).toBe(columns.strings.length);
    expect(columns.strings.filter((text) => text === 'org_1')).toHaveLength(1);
    expect(JSON.stringify(columns).length).toBeLessThan(JSON.stringify(events).length / 4);
  });

  it('survive the queue’s JSON round trip', () => {
    const events = [event(1), event(2)];
    const batch = JSON.parse(JSON.stringify(usageBatchOf('b', events))) as UsageBatchJobData;
    expect(batch.columns).toEqual(usageColumnsOf(events));
    expect(usageEventsOf(batch)).toEqual(events);
  });

  it('refuse columns that do not fit together', () => {
    const good = usageColumnsOf([event(1), event(2)]);
    expect(() => readUsageColumns(null)).toThrow(TypeError);
    expect(() => readUsageColumns({ ...good, strings: 'x' })).toThrow(/strings/);
    expect(() => readUsageColumns({ ...good, path: [0] })).toThrow(/path/);
    expect(() => readUsageColumns({ ...good, latency_us: undefined })).toThrow(/latency_us/);
    expect(() => readUsageColumns({ ...good, at_base_ms: 'today' })).toThrow(/at_base_ms/);
  });

  it('let a bad index or time spoil only its own event', () => {
    const good = usageColumnsOf([event(1), event(2)]);
    const [spoiled, kept] = readUsageColumns({
      ...good,
      code: [99, good.code[1]],
      path: ['0', good.path[1]],
      at_ms: ['soon', good.at_ms[1]],
    });
    expect(spoiled.code).toBeUndefined();
    expect(spoiled.path).toBeUndefined();
    expect(spoiled.at).toBe('invalid');
    expect(kept).toEqual(event(2));
  });
});
