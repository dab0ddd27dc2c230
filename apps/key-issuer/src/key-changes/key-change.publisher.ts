import { Injectable, Logger } from '@nestjs/common';

import { KEY_CHANGED_CHANNEL, KeyChangedNotice } from '@latchkey/contracts';
import { RedisService } from '@latchkey/platform';

/**
 * Announces a committed key change on Redis pub/sub so every auth-check instance
 * drops its cached copy at once. Call it after the transaction commits. It never
 * throws: if Redis is away the notice is lost, and auth-check's cache TTL is the
 * backstop that still bounds how long a stale entry can live.
 */
@Injectable()
export class KeyChangePublisher {
  private readonly logger = new Logger(KeyChangePublisher.name);

  constructor(private readonly redis: RedisService) {}

  async publish(notice: KeyChangedNotice): Promise<void> {
    try {
      await this.redis.client.publish(this.redis.key(KEY_CHANGED_CHANNEL), JSON.stringify(notice));
    } catch (error) {
      this.logger.warn(`key-changed notice for ${notice.key_id} not published: ${(error as Error).message}`);
    }
  }
}
