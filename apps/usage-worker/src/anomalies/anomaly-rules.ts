import { AlertSeverity, AlertType } from '@latchkey/db';

import { AnomalyThresholds } from './anomaly-thresholds';

/**
 * The anomaly rules as pure decisions: each takes what Redis counted (already read by
 * AnomalyDetector) and the organisation's thresholds, and says whether that is an
 * alert. Nothing here reads a clock, Redis or Postgres, so every threshold and edge is
 * a unit test (anomaly-rules.spec.ts).
 */

/** An alert a rule raised; AlertRecorder stores it once per episode (org + type + episode key). */
export interface AlertDecision {
  orgId: string;
  keyId: string | null;
  environment: 'test' | 'live' | null;
  type: AlertType;
  severity: AlertSeverity;
  /** The rule's subject and time window, e.g. `key_…:2026-11-23T10`: one alert per episode. */
  episodeKey: string;
  details: Record<string, unknown>;
}

/** One key's minute as counted in Redis, including earlier batches of the same minute. */
export interface KeyMinuteCounts {
  keyId: string;
  orgId: string;
  environment: 'test' | 'live' | null;
  /** Epoch minutes. */
  minute: number;
  /** Checks in the minute so far; -1 when the minute was already closed (a late batch). */
  checks: number;
  /** Refused checks in the minute so far. */
  denials: number;
  /** The key's moving per-minute baseline, null while it has none. */
  baseline: number | null;
  /** Active minutes folded into the baseline. */
  baselineMinutes: number;
}

/** (a) Far above the key's own baseline, once the baseline has enough history to mean something. */
export function trafficSpike(counts: KeyMinuteCounts, limits: AnomalyThresholds): AlertDecision | null {
  if (counts.baseline === null || counts.checks < 0 || counts.baselineMinutes < limits.spike_min_history_minutes) return null;
  const threshold = Math.max(limits.spike_factor * counts.baseline, limits.spike_floor_per_minute);
  if (counts.checks < threshold) return null;
  return {
    ...keySubject(counts),
    type: AlertType.TrafficSpike,
    severity: AlertSeverity.Warning,
    episodeKey: `${counts.keyId}:${hourOf(counts.minute)}`,
    details: {
      minute: minuteIso(counts.minute),
      checks: counts.checks,
      baseline_per_minute: round(counts.baseline),
      threshold: Math.ceil(threshold),
    },
  };
}

/** (c) Many refusals on one key in one minute. */
export function denialBurst(counts: KeyMinuteCounts, limits: AnomalyThresholds): AlertDecision | null {
  if (counts.denials < limits.denials_per_key_per_minute) return null;
  return {
    ...keySubject(counts),
    type: AlertType.DenialBurst,
    severity: AlertSeverity.Warning,
    episodeKey: `${counts.keyId}:${hourOf(counts.minute)}`,
    details: { minute: minuteIso(counts.minute), denials: counts.denials, threshold: limits.denials_per_key_per_minute },
  };
}

/** (e) A test key driven like production. */
export function testKeyVolume(counts: KeyMinuteCounts, limits: AnomalyThresholds): AlertDecision | null {
  if (counts.environment !== 'test' || counts.checks < limits.test_key_checks_per_minute) return null;
  return {
    ...keySubject(counts),
    type: AlertType.TestKeyVolume,
    severity: AlertSeverity.Info,
    episodeKey: `${counts.keyId}:${hourOf(counts.minute)}`,
    details: { minute: minuteIso(counts.minute), checks: counts.checks, threshold: limits.test_key_checks_per_minute },
  };
}

/** Every rule that judges one key's minute, in the order their alerts are recorded. */
export function keyMinuteAlerts(counts: KeyMinuteCounts, limits: AnomalyThresholds): AlertDecision[] {
  return [trafficSpike(counts, limits), denialBurst(counts, limits), testKeyVolume(counts, limits)].filter(
    (decision): decision is AlertDecision => decision !== null,
  );
}

/** A key's networks as Redis knew them before this batch, and what the batch added. */
export interface KeyNetworkHistory {
  keyId: string;
  orgId: string;
  environment: 'test' | 'live' | null;
  /** Epoch ms of the batch's last check. */
  lastAt: number;
  /** Epoch ms of the key's first check before this batch, null for a key never seen. */
  firstSeenAt: number | null;
  /** Checks of the key before this batch. */
  checksBefore: number;
  /** Networks this batch used that the key never had. */
  freshNetworks: readonly string[];
}

/** (d) A network the key never used, once the key is old enough or busy enough to have a history. */
export function newNetwork(history: KeyNetworkHistory, limits: AnomalyThresholds): AlertDecision | null {
  if (history.freshNetworks.length === 0 || history.firstSeenAt === null) return null;
  const ageHours = (history.lastAt - history.firstSeenAt) / 3_600_000;
  const established = ageHours >= limits.new_network_min_history_hours || history.checksBefore >= limits.new_network_min_history_checks;
  if (!established) return null;
  return {
    orgId: history.orgId,
    keyId: history.keyId,
    environment: history.environment,
    type: AlertType.NewNetwork,
    severity: AlertSeverity.Warning,
    // Per key and hour rather than per network: a key suddenly used from many places is one alert.
    episodeKey: `${history.keyId}:${hourOf(Math.floor(history.lastAt / 60_000))}`,
    details: {
      networks: [...history.freshNetworks].sort(),
      first_seen_at: new Date(history.firstSeenAt).toISOString(),
      checks_before: history.checksBefore,
    },
  };
}

/** Malformed or unknown keys from one IP in one minute, as counted in Redis. */
export interface IpFailureCounts {
  ip: string;
  /** Epoch minutes. */
  minute: number;
  /** Failed checks in the minute so far, this batch included. */
  count: number;
}

/**
 * (b) Unknown or malformed keys from one IP, told to one organisation whose keys were
 * used from that IP lately (such checks carry no organisation of their own).
 */
export function failedCheckBurst(failures: IpFailureCounts, orgId: string, limits: AnomalyThresholds): AlertDecision | null {
  if (failures.count < limits.failed_checks_per_ip_per_minute) return null;
  return {
    orgId,
    keyId: null,
    environment: null,
    type: AlertType.FailedCheckBurst,
    severity: AlertSeverity.Critical,
    episodeKey: `${failures.ip}:${hourOf(failures.minute)}`,
    details: {
      ip: failures.ip,
      minute: minuteIso(failures.minute),
      failed_checks: failures.count,
      threshold: limits.failed_checks_per_ip_per_minute,
    },
  };
}

/**
 * Whether this batch is the one that took the minute's count to the limit: a burst no
 * organisation can be told about is logged once per minute, not on every later batch.
 */
export function crossedThisBatch(countAfter: number, addedByBatch: number, limit: number): boolean {
  return countAfter >= limit && countAfter - addedByBatch < limit;
}

function keySubject(counts: KeyMinuteCounts) {
  return { orgId: counts.orgId, keyId: counts.keyId, environment: counts.environment };
}

/** `2026-11-23T10`: the episode window of a minute. */
function hourOf(minute: number): string {
  return new Date(minute * 60_000).toISOString().slice(0, 13);
}

function minuteIso(minute: number): string {
  return new Date(minute * 60_000).toISOString();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
