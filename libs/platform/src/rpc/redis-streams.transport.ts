import { Logger } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';

import { AppConfig } from '@latchkey/config';
import { AuthCheckPattern, isErrorCode } from '@latchkey/contracts';
import { RedisRpcResponder, RpcErrorBody, RpcOutcome } from '@latchkey/redis-rpc';

import { rpcErrorReply } from '../errors/all-exceptions.filter';
import { AppError } from '../errors/app-error';
import { toAppError } from '../errors/to-app-error';
import { createRedisClient, RedisPurpose } from '../redis/redis-connection';
import { DirectRpcHandlers } from './direct-rpc-handlers';

/** The patterns INTERNAL_TOKEN opens over Redis, as it opens POST /v1/verify; the rest need SERVICE_SECRET. */
export const INTERNAL_TOKEN_PATTERNS: ReadonlySet<string> = new Set([AuthCheckPattern.VerifyKey]);

/** What a `@MessagePattern` handler is given as its context: the pattern it was called by. */
export class RedisStreamsContext extends BaseRpcContext<[string]> {}

/**
 * The Nest side of RPC over Redis Streams (docs/decisions/0010-rpc-over-redis-streams.md):
 * `@MessagePattern` handlers, their pipes and the exception filter run as over any
 * transport, while @latchkey/redis-rpc hands each request to exactly one instance
 * and checks who signed it. Patterns in DirectRpcHandlers skip that pipeline (the hot path).
 */
export class RedisStreamsServer extends Server implements CustomTransportStrategy {
  private responder: RedisRpcResponder | undefined;
  private readonly log = new Logger('RedisStreamsServer');

  constructor(
    private readonly config: AppConfig,
    private readonly direct: DirectRpcHandlers = new DirectRpcHandlers(),
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.responder = new RedisRpcResponder({
      connect: () => createRedisClient(this.config, RedisPurpose.Rpc),
      prefix: this.config.get('REDIS_PREFIX'),
      patterns: [...this.messageHandlers.keys()],
      serviceSecrets: this.config.get('serviceSecrets'),
      internalSecrets: this.config.get('internalTokens'),
      internalPatterns: INTERNAL_TOKEN_PATTERNS,
      handle: (pattern, payload) => this.dispatch(pattern, payload),
      onWarning: (message) => this.log.warn(message),
    });
    this.responder.start().then(
      () => callback(),
      // Only the message: ioredis puts the failed command on its errors, and for a refused
      // AUTH that is REDIS_URL's user and password, which whoever prints the error would log.
      (error: unknown) => callback(new Error(`the RPC transport did not start: ${error instanceof Error ? error.message : String(error)}`)),
    );
  }

  async close(): Promise<void> {
    await this.responder?.stop();
  }

  on(): void {
    // The responder reports through the logger; there is no client-level event to forward.
  }

  unwrap<T>(): T {
    return this.responder as T;
  }

  private async dispatch(pattern: string, payload: unknown): Promise<RpcOutcome> {
    const direct = this.direct.get(pattern);
    if (direct) return this.dispatchDirect(pattern, direct, payload);
    // Looked up in the map itself: getHandlerByPattern re-parses the pattern on every call.
    const handler = this.messageHandlers.get(pattern);
    if (!handler) return { ok: false, error: { code: 'NOT_FOUND', kind: 'not_found', message: `No handler for ${pattern}.`, details: [] } };
    try {
      const answer$ = this.transformToObservable(await handler(payload, new RedisStreamsContext([pattern])));
      return { ok: true, data: await lastValueFrom(answer$, { defaultValue: null }) };
    } catch (error) {
      return { ok: false, error: this.errorBody(pattern, error) };
    }
  }

  /** A direct handler's answer, its errors made into RpcErrorReplies as AllExceptionsFilter makes them. */
  private async dispatchDirect(pattern: string, handler: (payload: unknown) => unknown, payload: unknown): Promise<RpcOutcome> {
    try {
      return { ok: true, data: (await handler(payload)) ?? null };
    } catch (error) {
      const appError = toAppError(error);
      if (!appError) this.log.error({ err: error, pattern }, 'unexpected error in a message handler');
      return { ok: false, error: rpcErrorReply(appError ?? new AppError('INTERNAL_ERROR', 'Unexpected error.')) };
    }
  }

  /** The exception filter has made an RpcErrorReply of every error; anything else is a bug, hidden from the caller. */
  private errorBody(pattern: string, error: unknown): RpcErrorBody {
    const reply = error as Partial<RpcErrorBody> | null;
    if (reply && typeof reply.code === 'string' && isErrorCode(reply.code) && typeof reply.message === 'string') {
      return reply as RpcErrorBody;
    }
    this.log.error({ err: error, pattern }, 'a message handler failed without an RpcErrorReply');
    return { code: 'INTERNAL_ERROR', kind: 'internal', message: `${pattern} failed.`, details: [] };
  }
}
