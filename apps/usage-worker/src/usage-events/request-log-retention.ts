import { DAY_MS, REQUEST_LOG_RETENTION_MAX_DAYS, REQUEST_LOG_RETENTION_SETTING } from '@latchkey/db';

export const REQUEST_LOG_ENVIRONMENTS = ['test', 'live'] as const;
export type RequestLogEnvironment = (typeof REQUEST_LOG_ENVIRONMENTS)[number];

/** One environment's request-log retention across the deployment. */
export interface RetentionWindow {
  /** REQUEST_LOG_RETENTION_<ENV>_DAYS: organisations without a setting of their own. */
  defaultDays: number;
  /** The longest window any organisation has (at least the default): day partitions are kept this long. */
  longestDays: number;
}

export type RetentionWindows = Record<RequestLogEnvironment, RetentionWindow>;

/** Checks before this are past a window of `days` at `now`. */
export function retentionCutoff(days: number, now: Date): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/**
 * SQL: the organisation's own retention days for one environment, or null when it
 * has none. `settings` is the organisation's settings (jsonb) expression. Anything
 * but a sane positive integer (settings are written only through a validated DTO,
 * but the column is free JSON) counts as no setting.
 */
export function ownRetentionDaysSql(settings: string, environment: RequestLogEnvironment): string {
  const value = `(${settings}->>'${REQUEST_LOG_RETENTION_SETTING[environment]}')`;
  return `(case when ${value} ~ '^[1-9][0-9]{0,3}$' then least(${value}::int, ${REQUEST_LOG_RETENTION_MAX_DAYS}) end)`;
}

/** SQL: the days an organisation's logs of one environment are kept (its own setting, else the default). */
export function retentionDaysSql(settings: string, environment: RequestLogEnvironment, defaultDays: number): string {
  // Interpolated, never bound: it comes from the validated configuration, and is checked again here.
  if (!Number.isInteger(defaultDays) || defaultDays < 1) throw new Error(`bad default retention: ${defaultDays}`);
  return `coalesce(${ownRetentionDaysSql(settings, environment)}, ${defaultDays})`;
}

/** SQL: the retention days of a row's organisation, for a row whose environment is `environment` (an SQL expression). */
export function retentionDaysByEnvironmentSql(
  settings: string,
  environment: string,
  defaultDays: Record<RequestLogEnvironment, number>,
): string {
  return (
    `(case ${environment} when 'test' then ${retentionDaysSql(settings, 'test', defaultDays.test)}` +
    ` else ${retentionDaysSql(settings, 'live', defaultDays.live)} end)`
  );
}
