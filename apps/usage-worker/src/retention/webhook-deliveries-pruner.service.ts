import { MikroORM } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { DAY_MS } from '@latchkey/db';
import { IdPrefix } from '@latchkey/ids';

import { BatchedDeleteLimits, BatchedDeleteResult, deleteInBatches } from '../database/delete-in-batches';
import { idCreatedBefore } from './id-created-before';

/**
 * Deliveries per statement. Each takes its attempts with it (the foreign key cascades),
 * about one per step of the retry schedule, so a batch deletes some ten times as many rows.
 */
export const WEBHOOK_DELIVERY_DELETE_LIMITS: BatchedDeleteLimits = { batchSize: 1_000, maxBatches: 500 };

/**
 * Deletes webhook deliveries that finished (succeeded or failed) more than
 * WEBHOOK_DELIVERY_RETENTION_DAYS ago, with their attempts. A pending delivery is
 * never touched: it still has attempts to come. A delivery sent again by hand is
 * pending, then finishes anew, so its retention counts from then (`updated_at`).
 * Run by the usage maintenance job, in bounded batches.
 */
@Injectable()
export class WebhookDeliveriesPruner {
  constructor(
    private readonly config: AppConfig,
    private readonly orm: MikroORM,
  ) {}

  prune(now: Date, limits: BatchedDeleteLimits = WEBHOOK_DELIVERY_DELETE_LIMITS): Promise<BatchedDeleteResult> {
    const before = new Date(now.getTime() - this.config.get('WEBHOOK_DELIVERY_RETENTION_DAYS') * DAY_MS);
    // As for the outbox: the id range bounds the scan, `= any(array(…))` keeps the delete on
    // the primary key. The row lock also keeps out a retry by hand that has not taken the row
    // yet (it then finds no delivery); one that has it is skipped.
    return deleteInBatches(
      this.orm,
      `delete from webhook_deliveries where id = any(array(
         select id from webhook_deliveries
          where id < ? and status <> 'pending' and updated_at < ?
          limit ? for update skip locked))`,
      [idCreatedBefore(IdPrefix.Delivery, before), before],
      limits,
    );
  }
}
