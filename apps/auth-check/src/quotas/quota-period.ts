/**
 * The periods a quota may count over (docs/api-conventions.md#api-keys): a UTC day, a UTC month,
 * or the key's whole life.
 */
export const QuotaPeriod = {
  Day: 'day',
  Month: 'month',
  Total: 'total',
} as const;
export type QuotaPeriod = (typeof QuotaPeriod)[keyof typeof QuotaPeriod];

export interface QuotaBucket {
  /** `YYYY-MM-DD`, `YYYY-MM` or `total`: distinct formats, so one key prefix holds all three. */
  name: string;
  /** When the bucket may be dropped (unix seconds), or null for `total`, which never expires. */
  expiresAt: number | null;
}

/**
 * Buckets are kept one grace period after they end (a day for days, a week for months)
 * so a report just after midnight can still read the period that just closed.
 */
const DAY_GRACE_MS = 86_400_000;
const MONTH_GRACE_MS = 7 * 86_400_000;

/** The UTC bucket a check at `at` counts against. */
export function quotaBucket(period: QuotaPeriod, at: Date): QuotaBucket {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  const yyyy = String(year).padStart(4, '0');
  const mm = String(month + 1).padStart(2, '0');
  switch (period) {
    case QuotaPeriod.Day: {
      const dd = String(at.getUTCDate()).padStart(2, '0');
      const end = Date.UTC(year, month, at.getUTCDate() + 1);
      return { name: `${yyyy}-${mm}-${dd}`, expiresAt: Math.floor((end + DAY_GRACE_MS) / 1_000) };
    }
    case QuotaPeriod.Month: {
      const end = Date.UTC(year, month + 1, 1);
      return { name: `${yyyy}-${mm}`, expiresAt: Math.floor((end + MONTH_GRACE_MS) / 1_000) };
    }
    case QuotaPeriod.Total:
      return { name: 'total', expiresAt: null };
  }
}
