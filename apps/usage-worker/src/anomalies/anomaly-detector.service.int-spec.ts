import { randomBytes } from 'node:crypto';

import { EntityManager } from '@mikro-orm/postgresql';

import { EventType, UsageEvent, VerifyCode } from '@latchkey/contracts';
import { Alert, AlertType, ApiKey, OutboxEvent } from '@latchkey/db';
import { MetricsService, RedisService } from '@latchkey/platform';

import { outboxEventErrors } from '../../../../test/support/event-samples';
import { seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { Clock } from '../reminders/clock';
import { AlertRecorder } from './alert-recorder.service';
import { AnomalyDetector } from './anomaly-detector.service';
import { ANOMALY_DEFAULTS } from './anomaly-thresholds';

const MINUTE = 60_000;
/** Minute-aligned, well away from an hour boundary, so a scenario's minutes share one episode window. */
const T0 = Date.parse('2026-11-23T08:00:00.000Z');

interface TestKey {
  id: string;
  orgId: string;
  environment: 'test' | 'live';
}

function checks(key: TestKey | null, count: number, at: number, options: { code?: VerifyCode; ip?: string | null } = {}): UsageEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    key_id: key?.id ?? null,
    org_id: key?.orgId ?? null,
    environment: key?.environment ?? null,
    code: options.code ?? VerifyCode.Valid,
    ip: options.ip === undefined ? '198.51.100.7' : options.ip,
    method: 'GET',
    path: '/v1/things',
    // Spread over the minute, never past it.
    at: new Date(at + Math.floor((index * 59_000) / Math.max(count, 1))).toISOString(),
    latency_us: 120,
  }));
}

/** `minutes` minutes of `perMinute` checks each, starting at `from`: the key's ordinary traffic. */
function history(key: TestKey, minutes: number, perMinute: number, from = T0): UsageEvent[] {
  return Array.from({ length: minutes }, (_, minute) => checks(key, perMinute, from + minute * MINUTE)).flat();
}

/**
 * The anomaly rules against Postgres and Redis: AnomalyDetector is handed checks at
 * fixed times (days of history in one call) and its alerts and outbox events are read
 * back. Alerts from checks made through POST /v1/verify, as GET /v1/alerts lists them,
 * are test/e2e/usage-worker/anomalies.e2e-spec.ts.
 */
describe(AnomalyDetector.name, () => {
  let harness: ServiceHarness;
  let detector: AnomalyDetector;
  let orgId: string;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [AlertRecorder, AnomalyDetector, Clock, MetricsService, RedisService] });
    detector = harness.get(AnomalyDetector);
    orgId = (await seedOrg(harness.em())).orgId;
  });

  afterAll(async () => {
    await harness?.close();
  });

  function em(): EntityManager {
    return harness.em();
  }

  async function newKey(environment: 'test' | 'live' = 'live', inOrg = orgId): Promise<TestKey> {
    const fork = em();
    const key = fork.create(ApiKey, {
      organization: inOrg,
      environment,
      name: 'anomaly test key',
      prefix: `sk_${environment.slice(0, 4)}_`,
      last4: 'abcd',
      secretHash: randomBytes(32).toString('hex'),
      createdBy: 'usr_test',
    });
    await fork.flush();
    return { id: key.id, orgId: inOrg, environment };
  }

  async function alertsOf(where: { keyId?: string; orgId?: string }): Promise<Alert[]> {
    return em().find(Alert, where, { orderBy: { id: 'asc' } });
  }

  async function triggeredEvents(alertIds: string[]): Promise<OutboxEvent[]> {
    const rows = await em().find(OutboxEvent, { type: EventType.AlertTriggered });
    // Every event the emitter wrote is what its published schema (WebhookEvent.<type>) says.
    expect(rows.flatMap(outboxEventErrors)).toEqual([]);
    return rows.filter((row) => alertIds.includes(row.data.id as string));
  }

  describe('(a) traffic far above the key’s own baseline', () => {
    it('fires once when a minute reaches max(factor × baseline, floor), however many batches the spike spans', async () => {
      const key = await newKey();
      await detector.detect(history(key, 31, 20));
      expect(await alertsOf({ keyId: key.id })).toEqual([]);

      // Baseline 20/min: the threshold is max(10 × 20, 100) = 200 in one minute.
      const spikeMinute = T0 + 31 * MINUTE;
      await detector.observe(checks(key, 150, spikeMinute));
      expect(await alertsOf({ keyId: key.id })).toEqual([]);
      await detector.observe(checks(key, 60, spikeMinute));
      await detector.observe(checks(key, 300, spikeMinute));
      await detector.observe(checks(key, 300, spikeMinute + MINUTE));

      const alerts = await alertsOf({ keyId: key.id });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({
        orgId,
        type: AlertType.TrafficSpike,
        severity: 'warning',
        environment: 'live',
        episodeKey: `${key.id}:2026-11-23T08`,
      });
      expect(alerts[0].details).toMatchObject({ checks: 210, baseline_per_minute: 20, threshold: 200 });

      const events = await triggeredEvents([alerts[0].id]);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ orgId, environment: 'live' });
      expect(events[0].data).toMatchObject({
        id: alerts[0].id,
        org_id: orgId,
        key_id: key.id,
        type: 'traffic_spike',
        acknowledged_at: null,
      });
    });

    it('stays quiet for ordinary ups and downs, and for a key with no baseline yet', async () => {
      const steady = await newKey();
      await detector.detect([...history(steady, 31, 20), ...checks(steady, 60, T0 + 31 * MINUTE)]);
      const fresh = await newKey();
      await detector.detect(checks(fresh, 500, T0));
      expect(await alertsOf({ keyId: steady.id })).toEqual([]);
      expect(await alertsOf({ keyId: fresh.id })).toEqual([]);
    });
  });

  describe('(b) malformed or unknown keys from one IP', () => {
    it('alerts the organisations whose keys were used from that IP, once per episode', async () => {
      const key = await newKey();
      const ip = '203.0.113.9';
      await detector.detect(checks(key, 3, T0, { ip }));
      const burst = ANOMALY_DEFAULTS.failed_checks_per_ip_per_minute;
      await detector.detect(checks(null, burst - 10, T0 + MINUTE, { code: VerifyCode.NotFound, ip }));
      await detector.detect(checks(null, 10, T0 + MINUTE, { code: VerifyCode.Malformed, ip }));
      await detector.detect(checks(null, burst, T0 + 2 * MINUTE, { code: VerifyCode.NotFound, ip }));

      const alerts = (await alertsOf({ orgId })).filter((alert) => alert.type === AlertType.FailedCheckBurst);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ keyId: null, environment: null, severity: 'critical', episodeKey: `${ip}:2026-11-23T08` });
      expect(alerts[0].details).toMatchObject({ ip, failed_checks: burst, threshold: burst });
      expect(await triggeredEvents([alerts[0].id])).toHaveLength(1);
    });

    it('stays quiet below the threshold and for IPs no organisation’s keys came from', async () => {
      const key = await newKey();
      const quietIp = '203.0.113.10';
      await detector.detect(checks(key, 3, T0, { ip: quietIp }));
      await detector.detect(checks(null, 10, T0 + MINUTE, { code: VerifyCode.NotFound, ip: quietIp }));
      await detector.detect(checks(null, 200, T0 + MINUTE, { code: VerifyCode.NotFound, ip: '203.0.113.11' }));
      const ips = (await alertsOf({ orgId })).filter((alert) => alert.type === AlertType.FailedCheckBurst).map((alert) => alert.details.ip);
      expect(ips).not.toContain(quietIp);
      expect(ips).not.toContain('203.0.113.11');
    });
  });

  describe('(c) many refusals on one key', () => {
    it('fires once when refused checks in a minute reach the threshold', async () => {
      const key = await newKey();
      const limit = ANOMALY_DEFAULTS.denials_per_key_per_minute;
      await detector.detect(checks(key, limit - 1, T0, { code: VerifyCode.RateLimited }));
      expect(await alertsOf({ keyId: key.id })).toEqual([]);
      await detector.detect(checks(key, 1, T0, { code: VerifyCode.IpNotAllowed }));
      await detector.detect(checks(key, limit * 2, T0 + MINUTE, { code: VerifyCode.RateLimited }));

      const alerts = await alertsOf({ keyId: key.id });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ type: AlertType.DenialBurst, severity: 'warning' });
      expect(alerts[0].details).toMatchObject({ denials: limit, threshold: limit });
      expect(await triggeredEvents([alerts[0].id])).toHaveLength(1);
    });

    it('stays quiet for a few refusals among valid checks', async () => {
      const key = await newKey();
      await detector.detect([...checks(key, 200, T0), ...checks(key, 10, T0, { code: VerifyCode.Revoked })]);
      expect(await alertsOf({ keyId: key.id })).toEqual([]);
    });

    it('uses the organisation’s own threshold when its settings set one', async () => {
      const other = await seedOrg(harness.em());
      await harness.sql(
        `update organizations set settings = settings || '{"anomaly": {"denials_per_key_per_minute": 5}}'::jsonb where id = ?`,
        [other.orgId],
      );
      const key = await newKey('live', other.orgId);
      await detector.detect(checks(key, 5, T0, { code: VerifyCode.Expired }));
      const alerts = await alertsOf({ keyId: key.id });
      expect(alerts).toHaveLength(1);
      expect(alerts[0].details).toMatchObject({ denials: 5, threshold: 5 });
    });
  });

  describe('(d) a network the key never used', () => {
    it('fires once the key has a history, for a new /24, once per episode', async () => {
      const key = await newKey();
      await detector.detect(checks(key, 5, T0, { ip: '198.51.100.7' }));
      // Still learning: a second network on the first day is not news.
      await detector.detect(checks(key, 5, T0 + 60 * MINUTE, { ip: '2001:db8:aa:1::1' }));
      expect(await alertsOf({ keyId: key.id })).toEqual([]);

      const dayLater = T0 + 25 * 60 * MINUTE;
      await detector.detect(checks(key, 5, dayLater, { ip: '198.51.100.200' }));
      await detector.detect(checks(key, 5, dayLater, { ip: '2001:db8:aa:ffff::9' }));
      expect(await alertsOf({ keyId: key.id })).toEqual([]);

      await detector.detect(checks(key, 3, dayLater + MINUTE, { ip: '192.0.2.1' }));
      await detector.detect(checks(key, 3, dayLater + 2 * MINUTE, { ip: '192.0.2.77' }));
      const alerts = await alertsOf({ keyId: key.id });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ type: AlertType.NewNetwork, episodeKey: `${key.id}:2026-11-24T09` });
      expect(alerts[0].details).toMatchObject({ networks: ['192.0.2.0/24'], first_seen_at: new Date(T0).toISOString() });
      expect(await triggeredEvents([alerts[0].id])).toHaveLength(1);
    });

    it('counts enough checks as a history too, and IPv6 by /48', async () => {
      const other = await seedOrg(harness.em());
      await harness.sql(
        `update organizations set settings = settings || '{"anomaly": {"new_network_min_history_checks": 20}}'::jsonb where id = ?`,
        [other.orgId],
      );
      const key = await newKey('live', other.orgId);
      await detector.detect(checks(key, 20, T0, { ip: '2001:db8:aa:1::1' }));
      await detector.detect(checks(key, 1, T0 + MINUTE, { ip: '2001:db8:bb::1' }));
      const alerts = await alertsOf({ keyId: key.id });
      expect(alerts).toHaveLength(1);
      expect(alerts[0].details).toMatchObject({ networks: ['2001:db8:bb::/48'], checks_before: 20 });
    });
  });

  describe('(e) a test key driven like production', () => {
    it('fires once when a test key reaches production-like volume in a minute', async () => {
      const key = await newKey('test');
      const limit = ANOMALY_DEFAULTS.test_key_checks_per_minute;
      await detector.detect(checks(key, limit - 1, T0));
      expect(await alertsOf({ keyId: key.id })).toEqual([]);
      await detector.detect(checks(key, 1, T0));
      await detector.detect(checks(key, limit, T0 + MINUTE));

      const alerts = await alertsOf({ keyId: key.id });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ type: AlertType.TestKeyVolume, environment: 'test', severity: 'info' });
      const events = await triggeredEvents([alerts[0].id]);
      expect(events).toHaveLength(1);
      expect(events[0].environment).toBe('test');
    });

    it('leaves live keys and modest test traffic alone', async () => {
      const live = await newKey('live');
      const test = await newKey('test');
      await detector.detect([...checks(live, ANOMALY_DEFAULTS.test_key_checks_per_minute, T0), ...checks(test, 100, T0)]);
      expect(await alertsOf({ keyId: live.id })).toEqual([]);
      expect(await alertsOf({ keyId: test.id })).toEqual([]);
    });
  });

  it('announces every stored alert exactly once, and nothing secret', async () => {
    const alerts = await alertsOf({});
    const events = await triggeredEvents(alerts.map((alert) => alert.id));
    expect(events.map((event) => event.data.id).sort()).toEqual(alerts.map((alert) => alert.id).sort());
    for (const event of events) expect(JSON.stringify(event.data)).not.toMatch(/secret|hash|sk_/i);
  });

  it('writes an episode once: the rest of a spike costs no database write', async () => {
    const key = await newKey();
    const limit = ANOMALY_DEFAULTS.denials_per_key_per_minute;
    // Every insert attempt, even one that conflicts and inserts nothing, passes a BEFORE INSERT trigger.
    await harness.sql('create sequence alert_insert_attempts');
    await harness.sql(`
      create function count_alert_insert() returns trigger language plpgsql as $$
      begin perform nextval('alert_insert_attempts'); return new; end $$`);
    await harness.sql('create trigger count_alert_insert before insert on alerts for each row execute function count_alert_insert()');
    try {
      for (let batch = 0; batch < 5; batch += 1) {
        await detector.detect(checks(key, limit, T0 + 2 * MINUTE, { code: VerifyCode.RateLimited }));
      }
      expect(await alertsOf({ keyId: key.id })).toHaveLength(1);
      const [attempts] = await harness.sql<{ n: string }>(
        `select case when is_called then last_value else 0 end as n from alert_insert_attempts`,
      );
      expect(Number(attempts.n)).toBe(1);
    } finally {
      await harness.sql('drop trigger if exists count_alert_insert on alerts');
      await harness.sql('drop function if exists count_alert_insert()');
      await harness.sql('drop sequence if exists alert_insert_attempts');
    }
  });

  it('keeps going (and throws nothing) on events it cannot use', async () => {
    const broken = { ...checks(null, 1, T0)[0], at: 'not a time' };
    await expect(detector.observe([broken, ...checks(null, 1, T0, { ip: 'not an ip' })])).resolves.toBeUndefined();
  });
});
