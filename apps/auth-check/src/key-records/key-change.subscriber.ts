import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Ajv from 'ajv';

import { AppConfig } from '@latchkey/config';
import { KEY_CHANGED_CHANNEL, KEY_CHANGED_NOTICE, KeyChangedNotice, RECEIVER_AJV_OPTIONS } from '@latchkey/contracts';
import { createRedisClient, RedisClient, RedisPurpose, RedisService } from '@latchkey/platform';

import { KeyRecordCache } from './key-record.cache';

const FIRST_SUBSCRIBE_WAIT_MS = 3_000;

/** Compiled once: every notice is checked against its contract before the cache acts on it. */
const isNotice = new Ajv(RECEIVER_AJV_OPTIONS).compile<KeyChangedNotice>(KEY_CHANGED_NOTICE.schema as object);

/**
 * Listens for key-changed notices on its own connection (a subscribed connection
 * can run no other command) and drops the named keys from the cache at once.
 * Pub/sub delivers nothing sent while the connection was down, so every
 * (re)subscribe flushes the cache; the TTL bounds what a lost notice can cost.
 * A notice that does not match KEY_CHANGED_NOTICE cannot say which keys changed, so it
 * flushes the whole cache, as a lost one would need (a revoked key must not stay cached
 * because its notice came in a newer shape), and is logged by its bad fields, never its
 * values: they name secret hashes.
 */
@Injectable()
export class KeyChangeSubscriber implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(KeyChangeSubscriber.name);
  private readonly channel: string;
  private readonly connection: RedisClient;
  private firstSubscribe: Promise<void>;
  private closing = false;

  constructor(
    config: AppConfig,
    redis: RedisService,
    private readonly cache: KeyRecordCache,
  ) {
    this.channel = redis.key(KEY_CHANGED_CHANNEL);
    // The subscriber profile leaves resubscribing to us (every `ready`), so we know when to flush.
    this.connection = createRedisClient(config, RedisPurpose.Subscriber, {
      // Named, so an operator (or a fault test) can find this connection in CLIENT LIST.
      connectionName: `${redis.prefix}:key-changes`,
    });
    let resolveFirst!: () => void;
    this.firstSubscribe = new Promise((resolve) => (resolveFirst = resolve));
    this.connection.on('error', (error: Error) => this.logger.warn(`key-changed subscriber: ${error.message}`));
    this.connection.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.connection.on('ready', () => {
      this.connection
        .subscribe(this.channel)
        .then(() => {
          this.cache.flush();
          resolveFirst();
        })
        .catch((error: Error) => this.logger.warn(`key-changed subscribe failed: ${error.message}`));
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.connection.connect().catch((error: Error) => this.logger.warn(`key-changed subscriber: ${error.message}`));
    // Boot does not wait for Redis for ever: until subscribed, the TTL bounds staleness.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.firstSubscribe, new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_SUBSCRIBE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.connection.quit().catch(() => this.connection.disconnect());
  }

  private onMessage(channel: string, message: string): void {
    if (channel !== this.channel) return;
    let notice: unknown;
    try {
      notice = JSON.parse(message);
    } catch {
      this.logger.warn('key-changed notice is not JSON; flushing the cache');
      this.cache.flush();
      return;
    }
    if (!isNotice(notice)) {
      const fields = (isNotice.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.keyword}`);
      this.logger.warn(`key-changed notice does not match its contract (${[...new Set(fields)].join(', ')}); flushing the cache`);
      this.cache.flush();
      return;
    }
    this.cache.invalidate(notice);
  }
}
