import { AlertSeverity, AlertType } from '@latchkey/db';

import {
  crossedThisBatch,
  denialBurst,
  failedCheckBurst,
  IpFailureCounts,
  keyMinuteAlerts,
  KeyMinuteCounts,
  KeyNetworkHistory,
  newNetwork,
  testKeyVolume,
  trafficSpike,
} from './anomaly-rules';
import { ANOMALY_DEFAULTS, AnomalyThresholds } from './anomaly-thresholds';

const limits: AnomalyThresholds = { ...ANOMALY_DEFAULTS };
// 2026-11-23T10:07:00Z in epoch minutes.
const MINUTE = Date.UTC(2026, 10, 23, 10, 7) / 60_000;

const quietMinute = (overrides: Partial<KeyMinuteCounts> = {}): KeyMinuteCounts => ({
  keyId: 'key_1',
  orgId: 'org_1',
  environment: 'live',
  minute: MINUTE,
  checks: 5,
  denials: 0,
  baseline: 5,
  baselineMinutes: 60,
  ...overrides,
});

describe('trafficSpike', () => {
  it('alerts at factor × baseline once the baseline has enough history', () => {
    // 10 × 20 = 200 is above the floor of 100, so the factor decides.
    const decision = trafficSpike(quietMinute({ baseline: 20, checks: 200 }), limits);
    expect(decision).toEqual({
      orgId: 'org_1',
      keyId: 'key_1',
      environment: 'live',
      type: AlertType.TrafficSpike,
      severity: AlertSeverity.Warning,
      episodeKey: 'key_1:2026-11-23T10',
      details: { minute: '2026-11-23T10:07:00.000Z', checks: 200, baseline_per_minute: 20, threshold: 200 },
    });
  });

  it('stays quiet one check below factor × baseline', () => {
    expect(trafficSpike(quietMinute({ baseline: 20, checks: 199 }), limits)).toBeNull();
  });

  it('needs the floor when the baseline is tiny: 10 × 1 checks is no spike', () => {
    expect(trafficSpike(quietMinute({ baseline: 1, checks: 99 }), limits)).toBeNull();
    expect(trafficSpike(quietMinute({ baseline: 1, checks: 100 }), limits)?.details).toMatchObject({ threshold: 100 });
  });

  it('rounds the reported threshold up and the baseline to two decimals', () => {
    const decision = trafficSpike(quietMinute({ baseline: 12.3456, checks: 124 }), limits);
    expect(decision?.details).toMatchObject({ baseline_per_minute: 12.35, threshold: 124 });
    expect(trafficSpike(quietMinute({ baseline: 12.3456, checks: 123 }), limits)).toBeNull();
  });

  it('stays quiet for a key without a baseline, however busy', () => {
    expect(trafficSpike(quietMinute({ baseline: null, checks: 100_000 }), limits)).toBeNull();
  });

  it('stays quiet until the baseline has spike_min_history_minutes active minutes', () => {
    const busy = { baseline: 5, checks: 1_000 };
    expect(trafficSpike(quietMinute({ ...busy, baselineMinutes: limits.spike_min_history_minutes - 1 }), limits)).toBeNull();
    expect(trafficSpike(quietMinute({ ...busy, baselineMinutes: limits.spike_min_history_minutes }), limits)).not.toBeNull();
  });

  it("applies the organisation's own factor and floor", () => {
    const strict = { ...limits, spike_factor: 2, spike_floor_per_minute: 10 };
    expect(trafficSpike(quietMinute({ baseline: 5, checks: 10 }), strict)).not.toBeNull();
    expect(trafficSpike(quietMinute({ baseline: 5, checks: 9 }), strict)).toBeNull();
  });
});

describe('denialBurst', () => {
  it('alerts at denials_per_key_per_minute refusals', () => {
    expect(denialBurst(quietMinute({ denials: limits.denials_per_key_per_minute }), limits)).toEqual({
      orgId: 'org_1',
      keyId: 'key_1',
      environment: 'live',
      type: AlertType.DenialBurst,
      severity: AlertSeverity.Warning,
      episodeKey: 'key_1:2026-11-23T10',
      details: { minute: '2026-11-23T10:07:00.000Z', denials: 50, threshold: 50 },
    });
  });

  it('stays quiet one refusal below', () => {
    expect(denialBurst(quietMinute({ denials: limits.denials_per_key_per_minute - 1 }), limits)).toBeNull();
  });

  it('counts refusals even in a closed minute, which the spike rule skips', () => {
    expect(denialBurst(quietMinute({ checks: -1, denials: 80 }), limits)).not.toBeNull();
  });
});

describe('testKeyVolume', () => {
  it('alerts for a test key at test_key_checks_per_minute, as info', () => {
    const decision = testKeyVolume(quietMinute({ environment: 'test', checks: limits.test_key_checks_per_minute }), limits);
    expect(decision).toMatchObject({
      type: AlertType.TestKeyVolume,
      severity: AlertSeverity.Info,
      environment: 'test',
      details: { checks: 600, threshold: 600 },
    });
  });

  it('stays quiet one check below', () => {
    expect(testKeyVolume(quietMinute({ environment: 'test', checks: limits.test_key_checks_per_minute - 1 }), limits)).toBeNull();
  });

  it('never fires for a live key, however busy', () => {
    expect(testKeyVolume(quietMinute({ environment: 'live', checks: 100_000 }), limits)).toBeNull();
    expect(testKeyVolume(quietMinute({ environment: null, checks: 100_000 }), limits)).toBeNull();
  });
});

describe('keyMinuteAlerts', () => {
  it('is empty for an ordinary minute', () => {
    expect(keyMinuteAlerts(quietMinute(), limits)).toEqual([]);
  });

  it('raises every rule that fires, spike first, on the same hourly episode', () => {
    const alerts = keyMinuteAlerts(quietMinute({ environment: 'test', checks: 1_000, denials: 900, baseline: 5 }), limits);
    expect(alerts.map((alert) => alert.type)).toEqual([AlertType.TrafficSpike, AlertType.DenialBurst, AlertType.TestKeyVolume]);
    expect(new Set(alerts.map((alert) => alert.episodeKey))).toEqual(new Set(['key_1:2026-11-23T10']));
  });
});

describe('newNetwork', () => {
  const firstSeenAt = Date.UTC(2026, 10, 1);
  const history = (overrides: Partial<KeyNetworkHistory> = {}): KeyNetworkHistory => ({
    keyId: 'key_1',
    orgId: 'org_1',
    environment: 'live',
    lastAt: Date.UTC(2026, 10, 23, 10, 7, 30),
    firstSeenAt,
    checksBefore: 10,
    freshNetworks: ['203.0.113.0/24'],
    ...overrides,
  });

  it('alerts for a fresh network on an established key, networks sorted', () => {
    expect(newNetwork(history({ freshNetworks: ['203.0.113.0/24', '198.51.100.0/24'] }), limits)).toEqual({
      orgId: 'org_1',
      keyId: 'key_1',
      environment: 'live',
      type: AlertType.NewNetwork,
      severity: AlertSeverity.Warning,
      episodeKey: 'key_1:2026-11-23T10',
      details: { networks: ['198.51.100.0/24', '203.0.113.0/24'], first_seen_at: '2026-11-01T00:00:00.000Z', checks_before: 10 },
    });
  });

  it('stays quiet when no network is new', () => {
    expect(newNetwork(history({ freshNetworks: [] }), limits)).toBeNull();
  });

  it("stays quiet on a key's very first batch: every network is new then", () => {
    expect(newNetwork(history({ firstSeenAt: null, checksBefore: 0 }), limits)).toBeNull();
  });

  it('counts a key as established at exactly new_network_min_history_hours', () => {
    const hours = limits.new_network_min_history_hours;
    const lastAt = firstSeenAt + hours * 3_600_000;
    expect(newNetwork(history({ lastAt }), limits)).not.toBeNull();
    expect(newNetwork(history({ lastAt: lastAt - 1 }), limits)).toBeNull();
  });

  it('counts a young key as established at new_network_min_history_checks', () => {
    const young = { lastAt: firstSeenAt + 60_000 };
    expect(newNetwork(history({ ...young, checksBefore: limits.new_network_min_history_checks }), limits)).not.toBeNull();
    expect(newNetwork(history({ ...young, checksBefore: limits.new_network_min_history_checks - 1 }), limits)).toBeNull();
  });

  it('sorts a copy, leaving the reading as it was', () => {
    const freshNetworks = ['b', 'a'];
    newNetwork(history({ freshNetworks }), limits);
    expect(freshNetworks).toEqual(['b', 'a']);
  });
});

describe('failedCheckBurst', () => {
  const failures = (count: number): IpFailureCounts => ({ ip: '203.0.113.9', minute: MINUTE, count });

  it('alerts the organisation at failed_checks_per_ip_per_minute, as critical, per IP and hour', () => {
    expect(failedCheckBurst(failures(limits.failed_checks_per_ip_per_minute), 'org_2', limits)).toEqual({
      orgId: 'org_2',
      keyId: null,
      environment: null,
      type: AlertType.FailedCheckBurst,
      severity: AlertSeverity.Critical,
      episodeKey: '203.0.113.9:2026-11-23T10',
      details: { ip: '203.0.113.9', minute: '2026-11-23T10:07:00.000Z', failed_checks: 50, threshold: 50 },
    });
  });

  it('stays quiet one failure below', () => {
    expect(failedCheckBurst(failures(limits.failed_checks_per_ip_per_minute - 1), 'org_2', limits)).toBeNull();
  });

  it("judges by the organisation's own threshold", () => {
    expect(failedCheckBurst(failures(5), 'org_2', { ...limits, failed_checks_per_ip_per_minute: 5 })).not.toBeNull();
  });
});

describe('crossedThisBatch', () => {
  it('is true only for the batch that reached the limit', () => {
    expect(crossedThisBatch(50, 10, 50)).toBe(true);
    expect(crossedThisBatch(55, 10, 50)).toBe(true);
    expect(crossedThisBatch(60, 10, 50)).toBe(false);
    expect(crossedThisBatch(49, 49, 50)).toBe(false);
  });

  it('is true when one batch alone goes from nothing to the limit', () => {
    expect(crossedThisBatch(50, 50, 50)).toBe(true);
  });
});
