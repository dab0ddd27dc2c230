import { MikroORM } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';

import { DAY_MS } from '@latchkey/db';

import { deleteInBatches } from '../database/delete-in-batches';
import { EXPIRED_LOOKBACK_DAYS } from './key-reminders.service';
import { EXPIRY_KIND_PATTERN, ROTATION_DUE_KIND_PREFIX, rotationDueKindSql } from './reminder-kinds';

/**
 * A key deleted, revoked or expired this long ago gets no more reminders, so what was
 * sent for it is forgotten. Longer than EXPIRED_LOOKBACK_DAYS: until then a recently
 * expired key may still be announced, and its `expired` row is what stops a repeat.
 */
export const SETTLED_KEY_DAYS = 2 * EXPIRED_LOOKBACK_DAYS;
/**
 * A quota notice of a day or month period is forgotten this long after it was sent:
 * its period is over by then (a month is at most 31 days), and the quota watcher only
 * ever looks at the current one.
 */
export const QUOTA_NOTICE_DAYS = 32;

export interface SentRemindersPruneRun {
  settledKeys: number;
  pastExpiries: number;
  earlierRotations: number;
  pastQuotaPeriods: number;
}

/**
 * Keeps `reminders_sent` from growing forever (a row per key and day of a daily
 * quota, a row per rotation, rows of keys long gone). A row is pruned only once it
 * can no longer stop anything from being sent:
 *  - every row of a key deleted SETTLED_KEY_DAYS ago or more (nothing is sent for a
 *    key that does not exist);
 *  - rows of a key revoked or expired that long ago, except `quota_*:total` notices:
 *    a refused check still reaches the quota watcher, and a total quota never turns
 *    over, so that row must stay as long as the key does;
 *  - expiry reminder rows (`<milestone>:<expires_at>`) of an expiry SETTLED_KEY_DAYS
 *    past or more, whatever the key's expiry is now: one the key was moved away from
 *    stops nothing unless the key is moved back to it, and a key that expired that
 *    long ago is not reminded (EXPIRED_LOOKBACK_DAYS);
 *  - `rotation_due:<time>` rows of earlier secrets of a key that has been rolled since;
 *  - quota notices of day and month periods sent QUOTA_NOTICE_DAYS ago or more.
 * Run by the usage maintenance job, in bounded batches.
 */
@Injectable()
export class SentRemindersPruner {
  constructor(private readonly orm: MikroORM) {}

  async prune(now: Date): Promise<SentRemindersPruneRun> {
    const settledBefore = new Date(now.getTime() - SETTLED_KEY_DAYS * DAY_MS);
    // Conditions on api_keys are subqueries, not joins: `for update` then locks only the
    // reminder rows, never the keys a check or an edit is using.
    const settledKeys = await deleteInBatches(this.orm, {
      table: 'reminders_sent',
      key: 'ctid',
      where: `sent_at < ?
          and (not exists (select 1 from api_keys k where k.id = reminders_sent.key_id)
               or (exists (select 1 from api_keys k where k.id = reminders_sent.key_id and (k.revoked_at < ? or k.expires_at < ?))
                   and not (starts_with(kind, 'quota_') and kind like '%:total')))`,
      params: [settledBefore, settledBefore, settledBefore],
    });
    const pastExpiries = await deleteInBatches(this.orm, {
      table: 'reminders_sent',
      key: 'ctid',
      where: `case when kind ~ '${EXPIRY_KIND_PATTERN}'
                   then substring(kind from position(':' in kind) + 1)::timestamptz < ?
                   else false end`,
      params: [settledBefore],
    });
    const earlierRotations = await deleteInBatches(this.orm, {
      table: 'reminders_sent',
      key: 'ctid',
      where: `starts_with(kind, '${ROTATION_DUE_KIND_PREFIX}')
          and exists (select 1 from api_keys k
                       where k.id = reminders_sent.key_id and reminders_sent.kind <> ${rotationDueKindSql('k.secret_rotated_at')})`,
      params: [],
    });
    const pastQuotaPeriods = await deleteInBatches(this.orm, {
      table: 'reminders_sent',
      key: 'ctid',
      where: `kind ~ '^quota_(warning|exceeded):[0-9]{4}-[0-9]{2}(-[0-9]{2}){0,1}$' and sent_at < ?`,
      params: [new Date(now.getTime() - QUOTA_NOTICE_DAYS * DAY_MS)],
    });
    return {
      settledKeys: settledKeys.deleted,
      pastExpiries: pastExpiries.deleted,
      earlierRotations: earlierRotations.deleted,
      pastQuotaPeriods: pastQuotaPeriods.deleted,
    };
  }
}
