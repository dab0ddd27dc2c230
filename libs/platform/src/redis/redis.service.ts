import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';

import { withDeadline } from '../queues/with-deadline';
import { createRedisClient, RedisClient, RedisPurpose } from './redis-connection';

/**
 * The process's Redis connection. Every key goes through `key()`, which puts the
 * deployment's REDIS_PREFIX in front so deployments (and test files) sharing one
 * Redis never see each other's data.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client: RedisClient;
  readonly prefix: string;

  constructor(config: AppConfig) {
    this.prefix = config.get('REDIS_PREFIX');
    // Fails a command fast while Redis is away instead of queueing it for ever:
    // callers answer 503 (or degrade) and the connection heals by itself.
    this.client = createRedisClient(config, RedisPurpose.Command);
    this.client.on('error', (error: Error) => this.logger.warn(`redis: ${error.message}`));
  }

  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** Round trip with a deadline, for readiness checks. */
  async ping(timeoutMs = 1_000): Promise<void> {
    await withDeadline(this.client.ping(), timeoutMs, `redis did not answer within ${timeoutMs} ms`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
