import { quotaBucket, QuotaPeriod } from './quota-period';

const seconds = (iso: string) => Date.parse(iso) / 1_000;

describe(quotaBucket.name, () => {
  it('names a day bucket YYYY-MM-DD in UTC and keeps it a day after the day ends', () => {
    expect(quotaBucket(QuotaPeriod.Day, new Date('2026-03-07T23:59:59.999Z'))).toEqual({
      name: '2026-03-07',
      expiresAt: seconds('2026-03-09T00:00:00Z'),
    });
    expect(quotaBucket(QuotaPeriod.Day, new Date('2026-03-08T00:00:00.000Z')).name).toBe('2026-03-08');
  });

  it('uses UTC, not the local zone of the offset written in the date', () => {
    expect(quotaBucket(QuotaPeriod.Day, new Date('2026-03-08T01:30:00+05:00')).name).toBe('2026-03-07');
  });

  it('names a month bucket YYYY-MM and keeps it a week after the month ends, across a year end', () => {
    expect(quotaBucket(QuotaPeriod.Month, new Date('2025-12-31T23:59:59Z'))).toEqual({
      name: '2025-12',
      expiresAt: seconds('2026-01-08T00:00:00Z'),
    });
    expect(quotaBucket(QuotaPeriod.Month, new Date('2026-01-01T00:00:00Z')).name).toBe('2026-01');
  });

  it('handles the end of February in a leap year', () => {
    expect(quotaBucket(QuotaPeriod.Day, new Date('2028-02-29T12:00:00Z'))).toEqual({
      name: '2028-02-29',
      expiresAt: seconds('2028-03-02T00:00:00Z'),
    });
    expect(quotaBucket(QuotaPeriod.Month, new Date('2028-02-29T12:00:00Z')).expiresAt).toBe(seconds('2028-03-08T00:00:00Z'));
  });

  it('has one bucket that never expires for total', () => {
    expect(quotaBucket(QuotaPeriod.Total, new Date('2026-03-07T10:00:00Z'))).toEqual({ name: 'total', expiresAt: null });
    expect(quotaBucket(QuotaPeriod.Total, new Date('2030-01-01T00:00:00Z'))).toEqual({ name: 'total', expiresAt: null });
  });
});
