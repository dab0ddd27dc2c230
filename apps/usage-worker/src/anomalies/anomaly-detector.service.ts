import { MikroORM } from '@mikro-orm/core';
import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';

import { UsageEvent, VerifyCode } from '@latchkey/contracts';
import { Alert, Organization } from '@latchkey/db';
import { errorMessageForLog, MetricsService, RedisBatch, RedisService } from '@latchkey/platform';

import { Clock } from '../reminders/clock';
import { AlertRecorder, NewAlert } from './alert-recorder.service';
import { AlertDecision, crossedThisBatch, failedCheckBurst, keyMinuteAlerts, newNetwork } from './anomaly-rules';
import { KEY_NETWORKS_SCRIPT, KEY_RATE_SCRIPT } from './anomaly-scripts';
import { ANOMALY_DEFAULTS, AnomalyThresholds, BASELINE_ALPHA, resolveThresholds } from './anomaly-thresholds';
import { networkOf } from './network-of';

/** Per-minute counters outlive their minute a little, for batches that arrive late. */
const MINUTE_COUNTER_TTL_S = 180;
/** A key's baseline, history and known networks: forgotten after this long without a check. */
const KEY_STATE_TTL_S = 90 * 86_400;
/** Which organisations' keys were seen from an IP lately (unknown keys carry no organisation). */
const IP_ORGS_TTL_S = 3_600;
/** Organisation thresholds are re-read this often: a settings change applies within a minute. */
const THRESHOLDS_CACHE_MS = 60_000;
const FAILED_CODES: ReadonlySet<string> = new Set([VerifyCode.Malformed, VerifyCode.NotFound]);

type Environment = 'test' | 'live';

interface KeyMinute {
  keyId: string;
  orgId: string;
  environment: Environment | null;
  minute: number;
  checks: number;
  denials: number;
}

interface KeyHistory {
  keyId: string;
  orgId: string;
  environment: Environment | null;
  firstAt: number;
  lastAt: number;
  checks: number;
  networks: Set<string>;
}

/**
 * Anomaly detection over the stream of key checks
 * (docs/api-conventions.md#usage-logs-and-alerts). The usage consumer calls `observe`
 * once per counted batch. Counting lives in Redis (per-minute keys with TTLs, one
 * pipeline per batch); each rule that crosses its threshold yields an alert stored once
 * per episode (rule + subject + hour) and sent as `alert.triggered` through the outbox
 * (AlertRecorder).
 *
 * Minutes are those of the checks (`at`), not of the worker's clock, so a batch
 * that waited in the queue is judged in the minute it happened.
 */
@Injectable()
export class AnomalyDetector {
  private readonly logger = new Logger(AnomalyDetector.name);
  private readonly thresholdsCache = new Map<string, { thresholds: AnomalyThresholds; readAt: number }>();
  private readonly alertsTotal: Counter<'type'>;
  private readonly failuresTotal: Counter;

  constructor(
    private readonly orm: MikroORM,
    private readonly redis: RedisService,
    private readonly recorder: AlertRecorder,
    private readonly clock: Clock,
    metrics: MetricsService,
  ) {
    this.alertsTotal = new Counter({
      name: 'anomaly_alerts_total',
      help: 'Anomaly alerts raised (one per episode), by type.',
      labelNames: ['type'] as const,
      registers: [metrics.registry],
    });
    this.failuresTotal = new Counter({
      name: 'anomaly_detection_failures_total',
      help: 'Batches whose anomaly detection failed (Redis or Postgres unavailable); counting itself is unaffected.',
      registers: [metrics.registry],
    });
  }

  /**
   * Best effort by design: the batch is already counted when this runs, and a retry
   * of the job would not run it again, so a failure is logged and counted, never thrown.
   */
  async observe(events: UsageEvent[]): Promise<void> {
    try {
      await this.detect(events);
    } catch (error) {
      this.failuresTotal.inc();
      this.logger.warn(`anomaly detection failed for a batch of ${events.length} events: ${errorMessageForLog(error)}`);
    }
  }

  /** Like `observe`, but throws; returns the alerts that are new. */
  async detect(events: UsageEvent[]): Promise<Alert[]> {
    const { keyMinutes, ipFailures, ipOrgs, histories } = aggregate(events);
    if (keyMinutes.length === 0 && ipFailures.size === 0) return [];

    const batch = new RedisBatch(this.redis.client);
    for (const row of keyMinutes) {
      batch.add(
        'EVAL',
        KEY_RATE_SCRIPT,
        1,
        this.redis.key('anomaly', 'rate', row.keyId),
        row.minute,
        row.checks,
        BASELINE_ALPHA,
        KEY_STATE_TTL_S,
      );
    }
    for (const row of keyMinutes) {
      const key = this.redis.key('anomaly', 'denied', row.keyId, String(row.minute));
      batch.add('INCRBY', key, row.denials).add('EXPIRE', key, MINUTE_COUNTER_TTL_S);
    }
    for (const history of histories) {
      // One script reads and writes both keys: the hash tag keeps them on one Redis Cluster shard.
      batch.add(
        'EVAL',
        KEY_NETWORKS_SCRIPT,
        2,
        this.redis.key('anomaly', `{${history.keyId}}`, 'history'),
        this.redis.key('anomaly', `{${history.keyId}}`, 'networks'),
        history.firstAt,
        history.checks,
        KEY_STATE_TTL_S,
        ...history.networks,
      );
    }
    for (const [ip, orgIds] of ipOrgs) {
      const key = this.redis.key('anomaly', 'ip-orgs', ip);
      batch.add('SADD', key, ...orgIds).add('EXPIRE', key, IP_ORGS_TTL_S);
    }
    const failures = [...ipFailures.values()];
    for (const failure of failures) {
      const key = this.redis.key('anomaly', 'ip-failed', failure.ip, String(failure.minute));
      batch.add('INCRBY', key, failure.count).add('EXPIRE', key, MINUTE_COUNTER_TTL_S);
      batch.add('SMEMBERS', this.redis.key('anomaly', 'ip-orgs', failure.ip));
    }
    const replies = await batch.exec();

    let at = 0;
    const rates = keyMinutes.map(() => replies[at++] as [number, string, number]);
    const denials = keyMinutes.map(() => {
      const count = Number(replies[at]);
      at += 2;
      return count;
    });
    const known = histories.map(() => replies[at++] as [string, number, string[]]);
    at += ipOrgs.size * 2;
    const failureCounts = failures.map(() => {
      const count = Number(replies[at]);
      const orgIds = replies[at + 2] as string[];
      at += 3;
      return { count, orgIds };
    });

    const orgIds = new Set<string>([...keyMinutes.map((row) => row.orgId), ...failureCounts.flatMap((failure) => failure.orgIds)]);
    const thresholds = await this.thresholdsOf([...orgIds]);
    const now = this.clock.now();
    const candidates: NewAlert[] = [];
    const raise = (decision: AlertDecision | null) => {
      if (decision) candidates.push({ ...decision, createdAt: now });
    };

    keyMinutes.forEach((row, index) => {
      const limits = thresholds.get(row.orgId);
      if (!limits) return;
      const [checks, baselineText, baselineMinutes] = rates[index];
      const counts = {
        ...row,
        checks,
        denials: denials[index],
        baseline: baselineText === '' ? null : Number(baselineText),
        baselineMinutes,
      };
      for (const decision of keyMinuteAlerts(counts, limits)) raise(decision);
    });

    histories.forEach((history, index) => {
      const limits = thresholds.get(history.orgId);
      if (!limits) return;
      const [firstSeenText, checksBefore, freshNetworks] = known[index];
      raise(
        newNetwork(
          {
            keyId: history.keyId,
            orgId: history.orgId,
            environment: history.environment,
            lastAt: history.lastAt,
            firstSeenAt: firstSeenText === '' ? null : Number(firstSeenText),
            checksBefore,
            freshNetworks,
          },
          limits,
        ),
      );
    });

    // Failed checks carry no organisation: each organisation whose keys were used from
    // that IP in the last hour is judged by its own threshold.
    failures.forEach((failure, index) => {
      const { count, orgIds: seenOrgs } = failureCounts[index];
      const limit = ANOMALY_DEFAULTS.failed_checks_per_ip_per_minute;
      if (seenOrgs.length === 0 && crossedThisBatch(count, failure.count, limit)) {
        this.logger.warn(`${count} malformed or unknown keys from ${failure.ip} in one minute, from no known organisation's clients`);
      }
      for (const orgId of seenOrgs) {
        const limits = thresholds.get(orgId);
        if (limits) raise(failedCheckBurst({ ip: failure.ip, minute: failure.minute, count }, orgId, limits));
      }
    });

    const created = await this.recorder.record(candidates);
    for (const row of created) this.alertsTotal.inc({ type: row.type });
    return created;
  }

  /** Thresholds of existing organisations (a deleted one gets none, so no alert). Cached for a minute. */
  private async thresholdsOf(orgIds: string[]): Promise<Map<string, AnomalyThresholds>> {
    const result = new Map<string, AnomalyThresholds>();
    const fresh = Date.now() - THRESHOLDS_CACHE_MS;
    const missing: string[] = [];
    for (const orgId of orgIds) {
      const cached = this.thresholdsCache.get(orgId);
      if (cached && cached.readAt > fresh) result.set(orgId, cached.thresholds);
      else missing.push(orgId);
    }
    if (missing.length > 0) {
      const orgs = await this.orm.em.fork().find(Organization, { id: { $in: missing } }, { fields: ['id', 'settings'] });
      const readAt = Date.now();
      for (const org of orgs) {
        const thresholds = resolveThresholds(org.settings);
        this.thresholdsCache.set(org.id, { thresholds, readAt });
        result.set(org.id, thresholds);
      }
    }
    return result;
  }
}

/**
 * The batch folded into what the rules read: per key and minute, per IP and minute,
 * per key. One pass over the events; each distinct IP's network is worked out once per
 * batch, and a counted event's time is the one the ledger already parsed.
 */
function aggregate(events: (UsageEvent & { atDate?: Date })[]) {
  const keyMinutes = new Map<string, KeyMinute>();
  const ipFailures = new Map<string, { ip: string; minute: number; count: number }>();
  const ipOrgs = new Map<string, Set<string>>();
  const histories = new Map<string, KeyHistory>();
  const networks = new Map<string, string | null>();
  const networkOfIp = (ip: string): string | null => {
    let network = networks.get(ip);
    if (network === undefined) {
      network = networkOf(ip);
      networks.set(ip, network);
    }
    return network;
  };
  for (const event of events) {
    const at = event.atDate ? event.atDate.getTime() : Date.parse(event.at);
    if (!Number.isFinite(at)) continue;
    const minute = Math.floor(at / 60_000);
    if (event.ip && FAILED_CODES.has(event.code)) {
      const id = `${event.ip}|${minute}`;
      const failure = ipFailures.get(id) ?? { ip: event.ip, minute, count: 0 };
      failure.count += 1;
      ipFailures.set(id, failure);
    }
    if (!event.key_id || !event.org_id) continue;
    if (event.ip) ipOrgs.set(event.ip, (ipOrgs.get(event.ip) ?? new Set()).add(event.org_id));
    const id = `${event.key_id}|${minute}`;
    const row = keyMinutes.get(id) ?? {
      keyId: event.key_id,
      orgId: event.org_id,
      environment: event.environment,
      minute,
      checks: 0,
      denials: 0,
    };
    row.checks += 1;
    if (event.code !== VerifyCode.Valid) row.denials += 1;
    keyMinutes.set(id, row);
    const history = histories.get(event.key_id) ?? {
      keyId: event.key_id,
      orgId: event.org_id,
      environment: event.environment,
      firstAt: at,
      lastAt: at,
      checks: 0,
      networks: new Set<string>(),
    };
    history.checks += 1;
    history.firstAt = Math.min(history.firstAt, at);
    history.lastAt = Math.max(history.lastAt, at);
    const network = event.ip ? networkOfIp(event.ip) : null;
    if (network) history.networks.add(network);
    histories.set(event.key_id, history);
  }
  return {
    // Minutes in order, so a key's baseline folds them as they happened.
    keyMinutes: [...keyMinutes.values()].sort((a, b) => a.minute - b.minute),
    ipFailures,
    ipOrgs,
    histories: [...histories.values()],
  };
}
