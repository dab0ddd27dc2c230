import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';

import { EventType, UsageEvent, VerifyCode } from '@latchkey/contracts';
import { ApiKeyQuota, QuotaPeriod } from '@latchkey/db';
import { OutboxService } from '@latchkey/outbox';
import { errorMessageForLog, MetricsService } from '@latchkey/platform';

import { Clock } from './clock';
import { quotaNoticeKind } from './reminder-kinds';
import { claimId, claimReminders } from './sent-reminders';

/** `usage.quota_warning` at this share of the quota; `usage.quota_exceeded` at all of it. */
export const QUOTA_WARNING_RATIO = 0.8;
/** A key's quota is re-read this often: a changed quota applies within a minute. */
const KEY_CACHE_MS = 60_000;
/** The in-process caches start over past this many entries (they only save queries). */
const CACHE_MAX_ENTRIES = 100_000;

interface KeyQuota {
  orgId: string;
  environment: 'test' | 'live';
  name: string;
  quota: ApiKeyQuota | null;
  readAt: number;
}

interface QuotaPeriodSpan {
  /** `2026-11-23`, `2026-11` or `total`: part of the notice's once-only kind. */
  name: string;
  start: Date;
}

/**
 * Quota notices (docs/api-conventions.md#usage-logs-and-alerts):
 * `usage.quota_warning` when a key has used 80 % of its quota in the current period,
 * `usage.quota_exceeded` at 100 %, each once per key and period. The usage consumer
 * calls `observe` after a batch is counted.
 *
 * Consumption is read from the usage counters in Postgres (`usage_counters`, day
 * buckets, VALID checks since the period's start, UTC), the exact, crash-safe
 * count, rather than from auth-check's Redis quota buckets; a QUOTA_EXCEEDED
 * verdict in the batch also counts as exceeded. (Counters count checks, so a quota
 * spent with `cost` > 1 is reached earlier than seen here; the QUOTA_EXCEEDED
 * verdict still reports it.) A key that jumps past 100 % at once gets only
 * `quota_exceeded`: the warning would arrive stale, and is recorded as done.
 */
@Injectable()
export class QuotaWatcher {
  private readonly logger = new Logger(QuotaWatcher.name);
  private readonly keys = new Map<string, KeyQuota>();
  /** Notices this process knows were sent (`key|kind`): such keys need no query until the period turns. */
  private readonly sent = new Set<string>();
  private readonly noticesTotal: Counter<'type'>;
  private readonly failuresTotal: Counter;

  constructor(
    private readonly orm: MikroORM,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
    metrics: MetricsService,
  ) {
    this.noticesTotal = new Counter({
      name: 'quota_notices_sent_total',
      help: 'Quota warnings and exceeded notices sent (each once per key and period), by event type.',
      labelNames: ['type'] as const,
      registers: [metrics.registry],
    });
    this.failuresTotal = new Counter({
      name: 'quota_watch_failures_total',
      help: 'Batches whose quota check failed; the next batch of the same key catches up.',
      registers: [metrics.registry],
    });
  }

  /** Never throws: the batch is already counted, and the next batch of the key reads the same totals. */
  async observe(events: UsageEvent[]): Promise<void> {
    try {
      await this.check(events);
    } catch (error) {
      this.failuresTotal.inc();
      this.logger.warn(`quota check failed for a batch of ${events.length} events: ${errorMessageForLog(error)}`);
    }
  }

  /** Like `observe`, but throws; returns how many notices it sent. */
  async check(events: UsageEvent[]): Promise<number> {
    const now = this.clock.now();
    const refused = new Set<string>();
    const keyIds = new Set<string>();
    for (const event of events) {
      if (!event.key_id) continue;
      keyIds.add(event.key_id);
      if (event.code === VerifyCode.QuotaExceeded) refused.add(event.key_id);
    }
    const quotas = await this.quotasOf([...keyIds]);
    const watched = [...quotas].flatMap(([keyId, key]) => {
      if (!key.quota || key.quota.limit <= 0) return [];
      const period = periodOf(key.quota.period, now);
      if (this.sent.has(claimId(keyId, quotaNoticeKind('quota_exceeded', period.name)))) return [];
      return [{ keyId, key, quota: key.quota, period }];
    });
    if (watched.length === 0) return 0;

    const em = this.orm.em.fork() as EntityManager;
    const { sent, exceeded } = await em.transactional(async (tx) => {
      const usage = await tx.execute<{ key_id: string; used: string }[]>(
        `select c.key_id, sum(c.count)::bigint as used
           from jsonb_to_recordset(?::jsonb) as p(key_id text, since timestamptz)
           join usage_counters c on c.key_id = p.key_id
          where c.granularity = 'day' and c.code = 'VALID' and c.bucket_start >= p.since
          group by c.key_id`,
        [JSON.stringify(watched.map((row) => ({ key_id: row.keyId, since: row.period.start.toISOString() })))],
      );
      const used = new Map(usage.map((row) => [row.key_id, Number(row.used)]));
      const notices = watched.flatMap((row) => {
        const count = used.get(row.keyId) ?? 0;
        const exceeded = count >= row.quota.limit || refused.has(row.keyId);
        if (!exceeded && count < QUOTA_WARNING_RATIO * row.quota.limit) return [];
        return [{ ...row, used: count, exceeded }];
      });
      const claims = notices.flatMap((notice) => [
        { keyId: notice.keyId, orgId: notice.key.orgId, kind: quotaNoticeKind('quota_warning', notice.period.name) },
        ...(notice.exceeded
          ? [{ keyId: notice.keyId, orgId: notice.key.orgId, kind: quotaNoticeKind('quota_exceeded', notice.period.name) }]
          : []),
      ]);
      const claimed = await claimReminders(tx, claims, now);
      let sent = 0;
      for (const notice of notices) {
        const warningKind = claimId(notice.keyId, quotaNoticeKind('quota_warning', notice.period.name));
        const exceededKind = claimId(notice.keyId, quotaNoticeKind('quota_exceeded', notice.period.name));
        const type = notice.exceeded
          ? claimed.has(exceededKind)
            ? EventType.UsageQuotaExceeded
            : null
          : claimed.has(warningKind)
            ? EventType.UsageQuotaWarning
            : null;
        if (!type) continue;
        sent += 1;
        this.noticesTotal.inc({ type });
        this.outbox.add(tx, {
          orgId: notice.key.orgId,
          environment: notice.key.environment,
          type,
          data: {
            key_id: notice.keyId,
            name: notice.key.name,
            period: notice.quota.period,
            period_start: notice.period.start.toISOString(),
            limit: notice.quota.limit,
            used: notice.used,
            percent: Math.floor((notice.used / notice.quota.limit) * 100),
          },
        });
      }
      return {
        sent,
        exceeded: notices
          .filter((notice) => notice.exceeded)
          .map((notice) => claimId(notice.keyId, quotaNoticeKind('quota_exceeded', notice.period.name))),
      };
    });
    // Remembered only once committed: a rolled-back claim must be tried again.
    if (this.sent.size > CACHE_MAX_ENTRIES) this.sent.clear();
    for (const id of exceeded) this.sent.add(id);
    return sent;
  }

  /** Quotas of the keys (cached a minute); keys without a quota cost nothing after the first read. */
  private async quotasOf(keyIds: string[]): Promise<Map<string, KeyQuota>> {
    const result = new Map<string, KeyQuota>();
    const fresh = Date.now() - KEY_CACHE_MS;
    const missing: string[] = [];
    for (const keyId of keyIds) {
      const cached = this.keys.get(keyId);
      if (cached && cached.readAt > fresh) result.set(keyId, cached);
      else missing.push(keyId);
    }
    if (missing.length > 0) {
      const em = this.orm.em.fork() as EntityManager;
      const rows = await em.execute<
        { id: string; organization_id: string; environment: 'test' | 'live'; name: string; quota: ApiKeyQuota | null }[]
      >('select id, organization_id, environment, name, quota from api_keys where id in (select jsonb_array_elements_text(?::jsonb))', [
        JSON.stringify(missing),
      ]);
      const readAt = Date.now();
      if (this.keys.size > CACHE_MAX_ENTRIES) this.keys.clear();
      for (const row of rows) {
        const key: KeyQuota = { orgId: row.organization_id, environment: row.environment, name: row.name, quota: row.quota, readAt };
        this.keys.set(row.id, key);
        result.set(row.id, key);
      }
    }
    return result;
  }
}

/** The UTC period a quota counts over at `now`, as auth-check's quota buckets. */
export function periodOf(period: QuotaPeriod, now: Date): QuotaPeriodSpan {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  switch (period) {
    case QuotaPeriod.Day: {
      const start = new Date(Date.UTC(year, month, now.getUTCDate()));
      return { name: start.toISOString().slice(0, 10), start };
    }
    case QuotaPeriod.Month: {
      const start = new Date(Date.UTC(year, month, 1));
      return { name: start.toISOString().slice(0, 7), start };
    }
    case QuotaPeriod.Total:
      return { name: 'total', start: new Date(0) };
  }
}
