import { createHash } from 'node:crypto';

import { Cluster } from 'ioredis';

import { withDeadline } from '../queues/with-deadline';
import type { RedisClient } from './redis-connection';

/**
 * A Lua script run with EVALSHA. The SHA-1 is computed locally, so the script
 * costs one round trip per call; when Redis does not know it (first call, a
 * restarted or flushed server: NOSCRIPT) it is sent once with EVAL, which also
 * caches it for the next EVALSHA.
 */
export class RedisScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Whether the connection is down for now (between reconnect attempts, or closed):
 * then a hot-path call answers degraded at once instead of waiting in the offline queue.
 */
export function isRedisAway(client: RedisClient): boolean {
  return client.status === 'reconnecting' || client.status === 'end' || client.status === 'close';
}

/**
 * Loads `scripts` into Redis (SCRIPT LOAD), waiting for the connection if it is still
 * being made, for at most `withinMs`. True when every script is loaded; false (never
 * a throw) when Redis did not answer in time: the checks then run degraded until it does.
 */
export async function loadScripts(client: RedisClient, scripts: RedisScript[], withinMs: number): Promise<boolean> {
  // Each master of a cluster has its own script cache; before the cluster is up a random
  // node takes it, and EVALSHA falls back to EVAL on the others.
  const masters = client instanceof Cluster ? client.nodes('master') : [];
  const targets: RedisClient[] = masters.length > 0 ? masters : [client];
  const loads = Promise.all(targets.flatMap((target) => scripts.map((script) => target.script('LOAD', script.source))));
  // A load still queued when the wait ends must not surface as an unhandled rejection.
  loads.catch(() => undefined);
  try {
    await withDeadline(loads, withinMs, `redis did not load the scripts within ${withinMs} ms`);
    return true;
  } catch {
    return false;
  }
}
