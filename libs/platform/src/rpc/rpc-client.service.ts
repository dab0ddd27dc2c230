import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { isErrorCode } from '@latchkey/contracts';
import { RedisRpcCaller, RpcErrorBody, RpcRefusedError, RpcTimeoutError } from '@latchkey/redis-rpc';

import { AppError } from '../errors';
import { createRedisClient, RedisPurpose } from '../redis/redis-connection';

/**
 * Calls another Latchkey service over Redis, signed with SERVICE_SECRET. A call always
 * ends: a reply, the handler's AppError rebuilt from its refusal, or a 503 after the deadline.
 */
@Injectable()
export class RpcClient implements OnApplicationShutdown {
  private readonly logger = new Logger(RpcClient.name);
  private readonly caller: RedisRpcCaller;

  constructor(config: AppConfig) {
    this.caller = new RedisRpcCaller({
      connect: () => createRedisClient(config, RedisPurpose.Rpc),
      prefix: config.get('REDIS_PREFIX'),
      credential: { name: 'service', secret: config.get('serviceSecrets')[0] },
      onWarning: (message) => this.logger.warn(message),
    });
  }

  async send<TReply>(pattern: string, payload: unknown, timeoutMs = 2_000): Promise<TReply> {
    try {
      return await this.caller.call<TReply>(pattern, payload, { timeoutMs });
    } catch (error) {
      if (error instanceof RpcTimeoutError) {
        throw new AppError('UPSTREAM_TIMEOUT', `${pattern} did not answer within ${timeoutMs} ms.`);
      }
      if (error instanceof RpcRefusedError) throw this.fromRefusal(pattern, error.body);
      // The transport itself failed (Redis unreachable, the client closing).
      throw AppError.unavailable(`${pattern} failed: ${(error as Error | null)?.message ?? 'unknown error'}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.caller.close();
  }

  /**
   * The catalogue gives the kind: a code it lacks (a service newer than this one, or a
   * bug) is nothing a client could act on, so it becomes INTERNAL_ERROR, logged here.
   */
  private fromRefusal(pattern: string, body: RpcErrorBody): AppError {
    if (!isErrorCode(body.code)) {
      this.logger.error({ pattern, code: body.code }, 'a message handler answered a code the error catalogue lacks');
      return new AppError('INTERNAL_ERROR', `${pattern} failed.`);
    }
    return new AppError(body.code, body.message, {
      details: Array.isArray(body.details) ? body.details : [],
      retryAfterSeconds: typeof body.retry_after_seconds === 'number' ? body.retry_after_seconds : undefined,
    });
  }
}
