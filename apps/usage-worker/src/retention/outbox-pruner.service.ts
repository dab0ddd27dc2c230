import { MikroORM } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { DAY_MS } from '@latchkey/db';
import { IdPrefix } from '@latchkey/ids';

import { BatchedDeleteLimits, BatchedDeleteResult, DEFAULT_DELETE_LIMITS, deleteEndedRows } from '../database/delete-in-batches';

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
    return deleteEndedRows(
      this.orm,
      { table: 'outbox_events', idPrefix: IdPrefix.Event, before, ended: 'relayed_at < ?', endedParams: [before] },
      limits,
    );
  }
}
