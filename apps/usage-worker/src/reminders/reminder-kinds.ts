/**
 * Milestones recorded in `reminders_sent` (SPEC §6). DO NOT CHANGE the values: a
 * stored row is what stops a reminder from being sent again.
 */
export const ReminderKind = {
  Expiring7d: 'expiring_7d',
  Expiring1d: 'expiring_1d',
  Expired: 'expired',
  RotationDue: 'rotation_due',
} as const;
export type ReminderKind = (typeof ReminderKind)[keyof typeof ReminderKind];

/** Quota notices are once per key and period: `quota_warning:2026-11-23`, `quota_exceeded:2026-11`, `quota_exceeded:total`. */
export function quotaNoticeKind(notice: 'quota_warning' | 'quota_exceeded', period: string): string {
  return `${notice}:${period}`;
}
