import { ClientRedis, MessageHandler, RedisOptions, ServerRedis } from '@nestjs/microservices';
import type { Redis, RedisOptions as RedisConnectionOptions } from 'ioredis';

import { redisConnectionOptions, RedisPurpose } from '../redis/redis-connection';

/**
 * Nest's Redis transport publishes on the bare pattern name. Redis pub/sub channels
 * ignore the database number, so two deployments (or two test files) on one Redis
 * would answer each other's requests. These subclasses put REDIS_PREFIX in front
 * of every channel, on both ends.
 */
export class PrefixedRedisServer extends ServerRedis {
  constructor(
    options: Required<RedisOptions>['options'],
    private readonly channelPrefix: string,
  ) {
    super(options);
  }

  override getRequestPattern(pattern: string): string {
    return `${this.channelPrefix}:rpc:${pattern}`;
  }

  override registerErrorListener(client: Redis): void {
    client.on('error', (error: Error) => {
      this.logger.error(redisErrorLine(error));
    });
  }

  // ServerRedis looks handlers up, and names the reply channel, by the channel a
  // message arrived on, which is the prefixed one: take the prefix off first, or
  // no handler matches and replies go to a channel no client listens on.
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return super.getHandlerByPattern(this.unprefixed(pattern));
  }

  override getReplyPattern(pattern: string): string {
    return `${this.channelPrefix}:rpc:${this.unprefixed(pattern)}.reply`;
  }

  private unprefixed(channel: string): string {
    const head = `${this.channelPrefix}:rpc:`;
    return channel.startsWith(head) ? channel.slice(head.length) : channel;
  }
}

export class PrefixedRedisClient extends ClientRedis {
  constructor(
    options: Required<RedisOptions>['options'],
    private readonly channelPrefix: string,
  ) {
    super(options);
  }

  override getRequestPattern(pattern: string): string {
    return `${this.channelPrefix}:rpc:${pattern}`;
  }

  override getReplyPattern(pattern: string): string {
    return `${this.channelPrefix}:rpc:${pattern}.reply`;
  }

  override registerErrorListener(client: Redis): void {
    client.on('error', (error: Error) => {
      this.logger.error(redisErrorLine(error));
    });
  }
}

/**
 * Nest logs the whole error object, and ioredis puts the failed command on it: for a
 * refused AUTH that is the username and the password from REDIS_URL. Only the message.
 */
function redisErrorLine(error: Error): string {
  return `redis transport: ${error.message}`;
}

/**
 * Options for the transport, from REDIS_URL: the connection factory's RPC profile,
 * plus Nest's own reconnect settings (Nest replaces ioredis's retryStrategy with
 * one built from these): reconnect for ever, every half second.
 */
export function transportOptions(redisUrl: string): Required<RedisOptions>['options'] {
  // Nest sets retryStrategy itself (the RPC profile has none); its type for it is narrower than ioredis's.
  const connection = redisConnectionOptions(redisUrl, RedisPurpose.Rpc) as Omit<RedisConnectionOptions, 'retryStrategy'>;
  return {
    ...connection,
    retryAttempts: Number.MAX_SAFE_INTEGER,
    retryDelay: 500,
  };
}
