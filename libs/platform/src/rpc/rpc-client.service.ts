import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';

import { AppConfig } from '@latchkey/config';
import { isErrorCode, RpcErrorReply } from '@latchkey/contracts';

import { AppError } from '../errors';
import { PrefixedRedisClient, transportOptions } from './prefixed-redis.transport';

/**
 * Calls another service over the Redis transport. A call always ends: a reply, the
 * handler's AppError rebuilt from its RpcErrorReply, or a 503 after the deadline.
 */
@Injectable()
export class RpcClient implements OnApplicationShutdown {
  private readonly logger = new Logger(RpcClient.name);
  private readonly client: PrefixedRedisClient;

  constructor(config: AppConfig) {
    this.client = new PrefixedRedisClient(transportOptions(config.get('REDIS_URL')), config.get('REDIS_PREFIX'));
  }

  async send<TReply>(pattern: string, payload: unknown, timeoutMs = 2_000): Promise<TReply> {
    try {
      return await firstValueFrom(this.client.send<TReply>(pattern, payload).pipe(timeout(timeoutMs)));
    } catch (error) {
      if (error instanceof TimeoutError) {
        throw new AppError('UPSTREAM_TIMEOUT', `${pattern} did not answer within ${timeoutMs} ms.`);
      }
      throw this.fromReply(pattern, error);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }

  /**
   * The catalogue gives the kind: a code it lacks (a service newer than this one, or a
   * bug) is nothing a client could act on, so it becomes INTERNAL_ERROR, logged here.
   */
  private fromReply(pattern: string, error: unknown): AppError {
    const reply = error as Partial<RpcErrorReply> | null;
    if (reply && typeof reply.code === 'string') {
      if (!isErrorCode(reply.code)) {
        this.logger.error({ pattern, code: reply.code }, 'a message handler answered a code the error catalogue lacks');
        return new AppError('INTERNAL_ERROR', `${pattern} failed.`);
      }
      return new AppError(reply.code, typeof reply.message === 'string' ? reply.message : reply.code, {
        details: Array.isArray(reply.details) ? reply.details : [],
        retryAfterSeconds: typeof reply.retry_after_seconds === 'number' ? reply.retry_after_seconds : undefined,
      });
    }
    // No reply at all: the transport itself failed (a closed connection, a client not yet connected).
    return AppError.unavailable(`${pattern} failed: ${(error as Error | null)?.message ?? 'unknown error'}`);
  }
}
