import { MikroORM } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { DAY_MS } from '@latchkey/db';
import { IdPrefix } from '@latchkey/ids';

import { BatchedDeleteLimits, BatchedDeleteResult, deleteEndedRows } from '../database/delete-in-batches';

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
    // The row lock also keeps out a retry by hand that has not taken the row yet (it then
    // finds no delivery); one that has it is skipped.
    return deleteEndedRows(
      this.orm,
      {
        table: 'webhook_deliveries',
        idPrefix: IdPrefix.Delivery,
        before,
        ended: "status <> 'pending' and updated_at < ?",
        endedParams: [before],
      },
      limits,
    );
  }
}
