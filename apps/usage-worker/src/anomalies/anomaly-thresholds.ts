/**
 * Defaults of the anomaly rules (docs/api-conventions.md#usage-logs-and-alerts). An
 * organisation may override any of them with `settings.anomaly.<name>` (a positive
 * number); anything else there is ignored and the default applies.
 */
export const ANOMALY_DEFAULTS = {
  /** (a) Spike: a key's checks in one minute ≥ max(factor × its baseline, floor)… */
  spike_factor: 10,
  spike_floor_per_minute: 100,
  /** …once the baseline has seen this many active minutes (a new key has no baseline to spike above). */
  spike_min_history_minutes: 30,
  /** (b) Malformed or unknown keys presented from one IP in one minute. */
  failed_checks_per_ip_per_minute: 50,
  /** (c) Refused checks (any code but VALID) on one key in one minute. */
  denials_per_key_per_minute: 50,
  /** (d) A new network is only news once the key has a history: this old, or this many checks. */
  new_network_min_history_hours: 24,
  new_network_min_history_checks: 1_000,
  /** (e) Checks of one test key in one minute that look like production traffic. */
  test_key_checks_per_minute: 600,
} as const;

export type AnomalyThresholds = { -readonly [K in keyof typeof ANOMALY_DEFAULTS]: number };

/**
 * Weight of the newest minute in a key's baseline (an exponentially weighted moving
 * average of its per-minute rate while in use): 0.1 ≈ the last 10–20 active minutes.
 * Not per organisation: every key's baseline is kept the same way.
 */
export const BASELINE_ALPHA = 0.1;

/** The thresholds that apply to one organisation, from its settings. */
export function resolveThresholds(settings: unknown): AnomalyThresholds {
  const thresholds: AnomalyThresholds = { ...ANOMALY_DEFAULTS };
  const overrides = isRecord(settings) && isRecord(settings.anomaly) ? settings.anomaly : {};
  for (const name of Object.keys(ANOMALY_DEFAULTS) as (keyof AnomalyThresholds)[]) {
    const value = overrides[name];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) thresholds[name] = value;
  }
  return thresholds;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
