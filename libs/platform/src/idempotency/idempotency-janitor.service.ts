import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import { errorMessageForLog } from '../logging/log-redaction';

const SWEEP_EVERY_MS = 10 * 60 * 1000;

/**
 * Deletes idempotency records past their 24 hours. They hold sealed first answers
 * (which may include a secret shown once), so they must not outlive their purpose.
 * Every process sweeps; the deletes are cheap (index on expires_at) and harmless
 * when they overlap.
 */
@Injectable()
export class IdempotencyJanitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(IdempotencyJanitor.name);
  private timer?: NodeJS.Timeout;

  constructor(private readonly em: EntityManager) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Returns how many records were removed. */
  async sweep(): Promise<number> {
    try {
      const result = await this.em
        .getConnection()
        .execute<{ affectedRows?: number }>('delete from idempotency_records where expires_at < now()', [], 'run');
      return result.affectedRows ?? 0;
    } catch (error) {
      this.logger.warn(`idempotency sweep failed: ${errorMessageForLog(error)}`);
      return 0;
    }
  }
}
