import type { Cluster, Redis, RedisOptions } from 'ioredis';

import { RedisRpcCaller, RpcRefusedError, RpcTimeoutError, RpcUnavailableError } from '@latchkey/redis-rpc';

import {
  LatchkeyApiError,
  LatchkeyAuthenticationError,
  LatchkeyError,
  LatchkeyErrorInit,
  LatchkeyPermissionError,
  LatchkeyRateLimitError,
  LatchkeyUnavailableError,
  LatchkeyValidationError,
} from '../core/errors';
import { Verdict, VerifyRequestBody } from './verdict';
import { VerifyTransport } from './verifier';

export interface RedisVerifierOptions {
  redis: {
    /** A single Redis: `redis://host:6379`. */
    url?: string;
    /** Or a Redis Cluster's nodes: `['redis://a:6379', …]` or `{ host, port }`. */
    clusterNodes?: Array<string | { host: string; port: number }>;
    /** The deployment's REDIS_PREFIX (Latchkey's default: `lk`). */
    prefix?: string;
    /** Passed to ioredis as they are (a password, TLS…). */
    options?: Record<string, unknown>;
  };
  /** The deployment's INTERNAL_TOKEN; without one the calls are unsigned (development only). */
  internalToken?: string;
}

const AUTH_VERIFY = 'auth.verify';

/**
 * `auth.verify` over Latchkey's Redis transport (docs/rpc-over-redis.md), with the client
 * the services use (libs/redis-rpc, bundled). ioredis is an optional peer dependency,
 * imported the first time a verify is sent.
 */
export class RedisVerifyTransport implements VerifyTransport {
  private caller: Promise<RedisRpcCaller> | undefined;

  constructor(private readonly options: RedisVerifierOptions) {
    if (!options.redis.url && !options.redis.clusterNodes?.length) throw new Error('createVerifier: redis needs url or clusterNodes');
  }

  private open(): Promise<RedisRpcCaller> {
    this.caller ??= loadIoredis().then((ioredis) => {
      const { url, clusterNodes, prefix, options } = this.options.redis;
      const connect = (): Redis | Cluster =>
        clusterNodes?.length
          ? new ioredis.Cluster(clusterNodes, { redisOptions: { maxRetriesPerRequest: 1, ...(options as RedisOptions) } })
          : new ioredis.Redis(url!, { maxRetriesPerRequest: 1, ...(options as RedisOptions) });
      const secret = this.options.internalToken;
      return new RedisRpcCaller({
        connect,
        prefix: prefix ?? 'lk',
        credential: secret ? { name: 'internal', secret } : { name: 'none' },
      });
    });
    return this.caller;
  }

  async send(body: VerifyRequestBody, timeoutMs: number): Promise<Verdict> {
    const caller = await this.open();
    try {
      return await caller.call<Verdict>(AUTH_VERIFY, body, { timeoutMs });
    } catch (error) {
      throw fromRpcError(error);
    }
  }

  async close(): Promise<void> {
    if (this.caller) await (await this.caller).close();
  }
}

async function loadIoredis(): Promise<{ Redis: new (url: string, options: RedisOptions) => Redis; Cluster: typeof Cluster }> {
  let loaded: Record<string, unknown>;
  try {
    loaded = await import('ioredis');
  } catch (error) {
    throw new Error('The Redis verifier needs ioredis: npm install ioredis', { cause: error });
  }
  // ESM sees module.exports as `default`; CJS sees it directly. Either way Redis is the export and Cluster hangs off it.
  const Redis = (loaded.default ?? loaded) as typeof import('ioredis').Redis;
  return { Redis, Cluster: Redis.Cluster };
}

/** A transport failure as the SDK's errors: no answer is LatchkeyUnavailableError, a refusal by its kind. */
export function fromRpcError(error: unknown): Error {
  if (error instanceof RpcTimeoutError) {
    return new LatchkeyUnavailableError({ code: 'TIMEOUT', reason: 'timeout', message: error.message, cause: error });
  }
  if (error instanceof RpcUnavailableError) {
    return new LatchkeyUnavailableError({ code: 'CONNECTION_FAILED', reason: 'connection', message: error.message, cause: error });
  }
  if (!(error instanceof RpcRefusedError)) return error instanceof Error ? error : new Error(String(error));
  const { body } = error;
  const init: LatchkeyErrorInit = {
    status: 0,
    code: body.code,
    message: body.message,
    details: body.details ?? [],
    retryAfterSeconds: body.retry_after_seconds ?? null,
    cause: error,
  };
  switch (body.kind) {
    case 'validation':
      return new LatchkeyValidationError({ ...init, status: 400 });
    case 'unauthenticated':
      return new LatchkeyAuthenticationError({ ...init, status: 401 });
    case 'forbidden':
      return new LatchkeyPermissionError({ ...init, status: 403 });
    case 'rate_limited':
      return new LatchkeyRateLimitError({ ...init, status: 429 });
    case 'unavailable':
      return new LatchkeyUnavailableError({ ...init, reason: 'unavailable' });
    case 'internal':
      return new LatchkeyUnavailableError({ ...init, reason: 'unavailable' });
    case undefined:
    default:
      return body.code ? new LatchkeyApiError({ ...init, status: 500 }) : new LatchkeyError(init);
  }
}
