import { HttpVerifierOptions, HttpVerifyTransport } from './http-transport';
import { OutageCache, OutageCacheOptions } from './outage-cache';
import { RedisVerifierOptions, RedisVerifyTransport } from './redis-transport';
import { Verifier } from './verifier';

interface CommonOptions {
  /** How long one verify waits for its verdict (default 2 s); `verify({ timeoutMs })` overrides it. */
  timeoutMs?: number;
  /**
   * Off unless given: remember passing verdicts (LRU of maxEntries, each for ttlMs) and answer
   * one, marked degraded and from_cache, only when Latchkey is unreachable (docs/sdk.md).
   */
  outageCache?: OutageCacheOptions;
}

export type VerifierOptions = (HttpVerifierOptions & CommonOptions) | (RedisVerifierOptions & CommonOptions);

/**
 * A verifier over HTTP (`{ baseUrl, internalToken }`, POST /v1/verify) or over Redis
 * (`{ redis: { url | clusterNodes, prefix }, internalToken }`, `auth.verify`).
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const cache = options.outageCache ? new OutageCache(options.outageCache) : undefined;
  if ('redis' in options && options.redis) return new Verifier(new RedisVerifyTransport(options), timeoutMs, cache);
  if ('baseUrl' in options && options.baseUrl) return new Verifier(new HttpVerifyTransport(options), timeoutMs, cache);
  throw new Error('createVerifier needs baseUrl (HTTP) or redis (the Redis transport)');
}
