import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

import { withDeadline } from '../queues/with-deadline';

@Injectable()
export class PostgresHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly em: EntityManager,
  ) {}

  async isHealthy(key = 'postgres'): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    try {
      await withDeadline(this.em.getConnection().execute('select 1'), 1_000, 'postgres did not answer within 1000 ms');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
