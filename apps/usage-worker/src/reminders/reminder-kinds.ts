/**
 * Expiry milestones (docs/api-conventions.md#usage-logs-and-alerts). DO NOT CHANGE the
 * values: they start the kinds stored in `reminders_sent`, and a stored row is what stops
 * a reminder from being sent again.
 */
export const ReminderKind = {
  Expiring7d: 'expiring_7d',
  Expiring1d: 'expiring_1d',
  Expired: 'expired',
} as const;
export type ReminderKind = (typeof ReminderKind)[keyof typeof ReminderKind];

/** A timestamptz `column` as `Date.toISOString()` writes it: ISO-8601 UTC to the millisecond. */
function isoInstantSql(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * Expiry reminders are once per key, milestone and expiry date: `<milestone>:<expires_at>`
 * (`expiring_7d:2026-12-08T12:00:00.000Z`), so a key whose expiry is moved is reminded
 * of the new date, each milestone once.
 */
export function expiryKindSql(milestone: string, column: string): string {
  return `${milestone} || ':' || ${isoInstantSql(column)}`;
}

/**
 * Matches the kinds expiryKindSql writes; `substring(kind from position(':' in kind) + 1)`
 * of a match is the expiry it was about.
 */
export const EXPIRY_KIND_PATTERN = `^(${Object.values(ReminderKind).join('|')}):[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$`;

/**
 * `api_key.rotation_due` is once per key and rotation: `rotation_due:<secret_rotated_at>`
 * (ISO-8601 UTC to the millisecond, `rotation_due:2026-11-23T10:00:00.000Z`), so a roll
 * starts a new policy period with a reminder of its own.
 */
export const ROTATION_DUE_KIND_PREFIX = 'rotation_due:';

/** The SQL of the rotation kind of a key's current secret; `column` is its `secret_rotated_at`. */
export function rotationDueKindSql(column: string): string {
  return `'${ROTATION_DUE_KIND_PREFIX}' || ${isoInstantSql(column)}`;
}

/** Quota notices are once per key and period: `quota_warning:2026-11-23`, `quota_exceeded:2026-11`, `quota_exceeded:total`. */
export function quotaNoticeKind(notice: 'quota_warning' | 'quota_exceeded', period: string): string {
  return `${notice}:${period}`;
}
