import { MikroORM } from '@mikro-orm/core';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import { BatchedDeleteLimits, DEFAULT_DELETE_LIMITS, deleteInBatches } from '../database/delete-in-batches';
import { errorMessageForLog } from '../logging/log-redaction';

const SWEEP_EVERY_MS = 10 * 60 * 1000;

/**
 * Deletes idempotency records past their 24 hours. They hold sealed first answers
 * (which may include a secret shown once), so they must not outlive their purpose.
 * Every process sweeps, in batches (deleteInBatches): a backlog never becomes one
 * long DELETE holding many rows' locks, and overlapping sweeps skip each other's rows.
 */
@Injectable()
export class IdempotencyJanitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(IdempotencyJanitor.name);
  private timer?: NodeJS.Timeout;

  constructor(private readonly orm: MikroORM) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Returns how many records were removed; past `limits`, the rest waits for the next sweep. */
  async sweep(limits: BatchedDeleteLimits = DEFAULT_DELETE_LIMITS): Promise<number> {
    try {
      // The key spans (scope, key) and the table is not partitioned: ctid tells its rows apart.
      const result = await deleteInBatches(
        this.orm,
        { table: 'idempotency_records', key: 'ctid', where: 'expires_at < now()', params: [] },
        limits,
      );
      return result.deleted;
    } catch (error) {
      this.logger.warn(`idempotency sweep failed: ${errorMessageForLog(error)}`);
      return 0;
    }
  }
}
