/**
 * Milestones recorded in `reminders_sent` (SPEC §6). DO NOT CHANGE the values: a
 * stored row is what stops a reminder from being sent again.
 */
export const ReminderKind = {
  Expiring7d: 'expiring_7d',
  Expiring1d: 'expiring_1d',
  Expired: 'expired',
} as const;
export type ReminderKind = (typeof ReminderKind)[keyof typeof ReminderKind];

/**
 * `api_key.rotation_due` is once per key and rotation: `rotation_due:<secret_rotated_at>`
 * (ISO-8601 UTC to the millisecond, `rotation_due:2026-11-23T10:00:00.000Z`), so a roll
 * starts a new policy period with a reminder of its own.
 */
export const ROTATION_DUE_KIND_PREFIX = 'rotation_due:';

/** The SQL of the rotation kind of a key's current secret; `column` is its `secret_rotated_at`. */
export function rotationDueKindSql(column: string): string {
  return `'${ROTATION_DUE_KIND_PREFIX}' || to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** Quota notices are once per key and period: `quota_warning:2026-11-23`, `quota_exceeded:2026-11`, `quota_exceeded:total`. */
export function quotaNoticeKind(notice: 'quota_warning' | 'quota_exceeded', period: string): string {
  return `${notice}:${period}`;
}
