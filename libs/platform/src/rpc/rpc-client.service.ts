import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';

import { AppConfig } from '@latchkey/config';

import { AppError, ErrorKind } from '../errors';
import { PrefixedRedisClient, transportOptions } from './prefixed-redis.transport';

export interface RpcErrorReply {
  code: string;
  message: string;
}

/**
 * Calls another service over the Redis transport. A call always ends: a reply, an
 * error `{code, message}` turned back into an AppError, or a 503 after the deadline.
 */
@Injectable()
export class RpcClient implements OnApplicationShutdown {
  private readonly client: PrefixedRedisClient;

  constructor(config: AppConfig) {
    this.client = new PrefixedRedisClient(transportOptions(config.get('REDIS_URL')), config.get('REDIS_PREFIX'));
  }

  async send<TReply>(pattern: string, payload: unknown, timeoutMs = 2_000): Promise<TReply> {
    try {
      return await firstValueFrom(this.client.send<TReply>(pattern, payload).pipe(timeout(timeoutMs)));
    } catch (error) {
      if (error instanceof TimeoutError) {
        throw AppError.unavailable(`${pattern} did not answer within ${timeoutMs} ms.`, 'UPSTREAM_TIMEOUT');
      }
      const reply = error as Partial<RpcErrorReply>;
      if (reply && typeof reply.code === 'string') {
        throw new AppError(kindForCode(reply.code), reply.code, reply.message ?? reply.code);
      }
      throw AppError.unavailable(`${pattern} failed: ${(error as Error).message ?? 'unknown error'}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

function kindForCode(code: string): ErrorKind {
  switch (code) {
    case 'VALIDATION_FAILED':
      return ErrorKind.Validation;
    case 'NOT_FOUND':
      return ErrorKind.NotFound;
    case 'UNAUTHENTICATED':
      return ErrorKind.Unauthenticated;
    case 'FORBIDDEN':
      return ErrorKind.Forbidden;
    case 'CONFLICT':
      return ErrorKind.Conflict;
    default:
      return ErrorKind.Unavailable;
  }
}
