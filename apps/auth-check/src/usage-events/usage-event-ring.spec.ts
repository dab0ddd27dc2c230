import { readUsageColumns, UsageColumns, VerifyCode } from '@latchkey/contracts';

import { PendingUsageEvent, UsageEventRing } from './usage-event-ring';

const AT = Date.UTC(2026, 10, 29, 12, 0, 0, 250);

function event(index: number): PendingUsageEvent {
  return {
    key_id: `key_${index}`,
    org_id: 'org_1',
    environment: index % 2 === 0 ? 'test' : 'live',
    code: index % 3 === 0 ? VerifyCode.Valid : VerifyCode.NotFound,
    ip: '203.0.113.7',
    method: index % 5 === 0 ? null : 'GET',
    path: `/p/${index}`,
    latency_us: index,
  };
}

const keyIds = (columns: UsageColumns) => readUsageColumns(columns).map((taken) => taken.key_id);

describe(UsageEventRing.name, () => {
  it('gives back each event as the queue contract has it, its time as ISO-8601', () => {
    const sut = new UsageEventRing();
    sut.push(event(1), AT);
    expect(readUsageColumns(sut.take(10))).toEqual([{ ...event(1), at: '2026-11-29T12:00:00.250Z' }]);
    expect(sut.length).toBe(0);
  });

  it('takes events in the order they came, up to the count asked', () => {
    const sut = new UsageEventRing();
    for (let index = 1; index <= 5; index += 1) sut.push(event(index), AT + index);
    expect(keyIds(sut.take(2))).toEqual(['key_1', 'key_2']);
    expect(keyIds(sut.take(10))).toEqual(['key_3', 'key_4', 'key_5']);
    expect(readUsageColumns(sut.take(1))).toEqual([]);
  });

  it('drops the oldest event, and says when there is none', () => {
    const sut = new UsageEventRing();
    expect(sut.dropOldest()).toBe(false);
    [1, 2, 3].forEach((index) => sut.push(event(index), AT));
    expect(sut.dropOldest()).toBe(true);
    expect(sut.length).toBe(2);
    expect(keyIds(sut.take(5))).toEqual(['key_2', 'key_3']);
  });

  it('keeps every field of every event through wrap-arounds and growth of a long backlog', () => {
    const sut = new UsageEventRing();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 40; round += 1) {
      for (let i = 0; i < 1_000 + round * 50; i += 1) sut.push(event(next), AT + next++);
      for (let i = 0; i < 300; i += 1) {
        sut.dropOldest();
        expected += 1;
      }
      const taken = readUsageColumns(sut.take(700));
      taken.forEach((item, offset) => {
        const index = expected + offset;
        expect(item).toEqual({ ...event(index), at: new Date(AT + index).toISOString() });
      });
      expected += taken.length;
    }
    expect(sut.length).toBe(next - expected);
  });

  it('lets a backlog’s memory go once it has been sent, and keeps working after', () => {
    const sut = new UsageEventRing();
    for (let index = 0; index < 50_000; index += 1) sut.push(event(index), AT);
    expect(sut.capacity).toBeGreaterThanOrEqual(50_000);
    while (sut.length > 0) sut.take(500);
    expect(sut.capacity).toBe(0);
    sut.push(event(7), AT);
    expect(keyIds(sut.take(1))).toEqual(['key_7']);
  });
});
