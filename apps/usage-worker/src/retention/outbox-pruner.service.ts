import { MikroORM } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { DAY_MS } from '@latchkey/db';
import { IdPrefix } from '@latchkey/ids';

import { BatchedDeleteLimits, BatchedDeleteResult, DEFAULT_DELETE_LIMITS, deleteInBatches } from '../database/delete-in-batches';
import { idCreatedBefore } from './id-created-before';

/**
 * Deletes outbox rows relayed more than OUTBOX_RETENTION_DAYS ago. Once relayed, an
 * event lives on in the events queue and the webhook deliveries made from it; the row
 * is kept a while only for an operator to look at recent relays. An unrelayed row is
 * never touched, however old. Run by the usage maintenance job, in bounded batches.
 */
@Injectable()
export class OutboxPruner {
  constructor(
    private readonly config: AppConfig,
    private readonly orm: MikroORM,
  ) {}

  prune(now: Date, limits: BatchedDeleteLimits = DEFAULT_DELETE_LIMITS): Promise<BatchedDeleteResult> {
    const before = new Date(now.getTime() - this.config.get('OUTBOX_RETENTION_DAYS') * DAY_MS);
    // A row is relayed after it is created, so the id range (primary key) bounds the scan.
    // `= any(array(…))`, not `in (…)`: with `in` the planner may hash the batch and scan the
    // whole table for it. `skip locked` passes over rows another worker is pruning meanwhile.
    return deleteInBatches(
      this.orm,
      `delete from outbox_events where id = any(array(
         select id from outbox_events where id < ? and relayed_at < ? limit ? for update skip locked))`,
      [idCreatedBefore(IdPrefix.Event, before), before],
      limits,
    );
  }
}
