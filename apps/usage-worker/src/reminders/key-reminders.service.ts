import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { EventType } from '@latchkey/contracts';
import { DAY_MS } from '@latchkey/db';
import { OutboxService } from '@latchkey/outbox';

import { Clock } from './clock';
import { expiryKindSql, ReminderKind, rotationDueKindSql } from './reminder-kinds';
import { claimId, claimReminders } from './sent-reminders';

/** Keys looked at per statement; a run goes on until a scan comes back short. */
const SCAN_LIMIT = 500;
/**
 * `api_key.expired` is announced for keys that expired this recently: a key that
 * expired long before reminders existed (or a worker down for weeks) is old news.
 */
export const EXPIRED_LOOKBACK_DAYS = 30;

interface ExpiryRow {
  id: string;
  org_id: string;
  environment: 'test' | 'live';
  name: string;
  prefix: string;
  last4: string;
  expires_at: Date;
  milestone: ReminderKind;
  /** `<milestone>:<expires_at>`: the once-only guard of this milestone of this expiry date. */
  kind: string;
}

interface RotationRow {
  id: string;
  org_id: string;
  environment: 'test' | 'live';
  name: string;
  prefix: string;
  last4: string;
  created_at: Date;
  secret_rotated_at: Date;
  policy_days: number;
  /** `rotation_due:<secret_rotated_at>`: the once-only guard of this rotation's reminder. */
  kind: string;
}

export interface ReminderRun {
  expiring: number;
  expired: number;
  rotationDue: number;
}

/**
 * Expiry and rotation reminders (docs/api-conventions.md#usage-logs-and-alerts):
 * `api_key.expiring` 7 days and 1 day before expiry (`data.days_left`),
 * `api_key.expired`, `api_key.rotation_due` once a key's secret is older than its
 * organisation's `rotation_policy_days` (counted from `secret_rotated_at`: creation,
 * then each roll). Each is sent once per key and milestone — for expiry, once per
 * expiry date, so a key whose `expires_at` is moved is reminded of the new date; for
 * rotation, once per secret — : the scan skips milestones already in
 * `reminders_sent`, and the insert into it (in the outbox event's transaction)
 * settles races.
 *
 * A key that is already inside the 1-day window gets only the 1-day reminder: the
 * 7-day one would arrive stale. Revoked keys get none; expired or disabled keys are
 * not due for rotation.
 */
@Injectable()
export class KeyRemindersService {
  constructor(
    private readonly orm: MikroORM,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
  ) {}

  async sendDue(now = this.clock.now()): Promise<ReminderRun> {
    const run: ReminderRun = { expiring: 0, expired: 0, rotationDue: 0 };
    for (;;) {
      const sent = await this.sendExpiryBatch(now);
      run.expiring += sent.expiring;
      run.expired += sent.expired;
      if (sent.scanned < SCAN_LIMIT) break;
    }
    for (;;) {
      const sent = await this.sendRotationBatch(now);
      run.rotationDue += sent.sent;
      if (sent.scanned < SCAN_LIMIT) break;
    }
    return run;
  }

  private async sendExpiryBatch(now: Date): Promise<{ scanned: number; expiring: number; expired: number }> {
    const em = this.orm.em.fork() as EntityManager;
    return em.transactional(async (tx) => {
      const rows = await tx.execute<ExpiryRow[]>(
        `select c.* from (
           select m.*, ${expiryKindSql('m.milestone', 'm.expires_at')} as kind from (
             select k.id, k.organization_id as org_id, k.environment, k.name, k.prefix, k.last4, k.expires_at,
                    case when k.expires_at <= ?::timestamptz then '${ReminderKind.Expired}'
                         when k.expires_at <= ?::timestamptz then '${ReminderKind.Expiring1d}'
                         else '${ReminderKind.Expiring7d}' end as milestone
               from api_keys k
              where k.revoked_at is null and k.expires_at is not null
                and k.expires_at <= ?::timestamptz and k.expires_at > ?::timestamptz
           ) m
         ) c
         where not exists (select 1 from reminders_sent r where r.key_id = c.id and r.kind = c.kind)
         order by c.id
         limit ${SCAN_LIMIT}`,
        [now, plusDays(now, 1), plusDays(now, 7), plusDays(now, -EXPIRED_LOOKBACK_DAYS)],
      );
      const claimed = await claimReminders(
        tx,
        rows.map((row) => ({ keyId: row.id, kind: row.kind, orgId: row.org_id })),
        now,
      );
      let expiring = 0;
      let expired = 0;
      for (const row of rows) {
        if (!claimed.has(claimId(row.id, row.kind))) continue;
        const expiresAt = new Date(row.expires_at);
        const key = { key_id: row.id, name: row.name, prefix: row.prefix, last4: row.last4, expires_at: expiresAt.toISOString() };
        if (row.milestone === ReminderKind.Expired) {
          expired += 1;
          this.outbox.add(tx, { orgId: row.org_id, environment: row.environment, type: EventType.ApiKeyExpired, data: key });
        } else {
          expiring += 1;
          const daysLeft = Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / DAY_MS));
          this.outbox.add(tx, {
            orgId: row.org_id,
            environment: row.environment,
            type: EventType.ApiKeyExpiring,
            data: { ...key, days_left: daysLeft },
          });
        }
      }
      return { scanned: rows.length, expiring, expired };
    });
  }

  private async sendRotationBatch(now: Date): Promise<{ scanned: number; sent: number }> {
    const em = this.orm.em.fork() as EntityManager;
    return em.transactional(async (tx) => {
      const rows = await tx.execute<RotationRow[]>(
        `select c.* from (
           select k.id, k.organization_id as org_id, k.environment, k.name, k.prefix, k.last4, k.created_at, k.secret_rotated_at,
                  p.policy_days, ${rotationDueKindSql('k.secret_rotated_at')} as kind
             from api_keys k
             join organizations o on o.id = k.organization_id
             cross join lateral (
               select case when (o.settings->>'rotation_policy_days') ~ '^[0-9]{1,5}$'
                           then (o.settings->>'rotation_policy_days')::int end as policy_days
             ) p
            where k.revoked_at is null and k.disabled_at is null
              and (k.expires_at is null or k.expires_at > ?::timestamptz)
              and p.policy_days > 0
              and k.secret_rotated_at <= ?::timestamptz - make_interval(days => p.policy_days)
         ) c
         where not exists (select 1 from reminders_sent r where r.key_id = c.id and r.kind = c.kind)
         order by c.id
         limit ${SCAN_LIMIT}`,
        [now, now],
      );
      const claimed = await claimReminders(
        tx,
        rows.map((row) => ({ keyId: row.id, kind: row.kind, orgId: row.org_id })),
        now,
      );
      let sent = 0;
      for (const row of rows) {
        if (!claimed.has(claimId(row.id, row.kind))) continue;
        sent += 1;
        const rotatedAt = new Date(row.secret_rotated_at);
        this.outbox.add(tx, {
          orgId: row.org_id,
          environment: row.environment,
          type: EventType.ApiKeyRotationDue,
          data: {
            key_id: row.id,
            name: row.name,
            prefix: row.prefix,
            last4: row.last4,
            created_at: new Date(row.created_at).toISOString(),
            secret_rotated_at: rotatedAt.toISOString(),
            // The age of the secret, which is what the policy is about (the key's own age until its first roll).
            age_days: Math.floor((now.getTime() - rotatedAt.getTime()) / DAY_MS),
            rotation_policy_days: row.policy_days,
          },
        });
      }
      return { scanned: rows.length, sent };
    });
  }
}

function plusDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}
