import { createHash } from 'node:crypto';

import Redis from 'ioredis';

/**
 * A Lua script run with EVALSHA. The SHA-1 is computed locally, so the script
 * costs one round trip per call; when Redis does not know it (first call, a
 * restarted or flushed server: NOSCRIPT) it is sent once with EVAL, which also
 * caches it for the next EVALSHA.
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Rejects once `ms` have passed: a frozen Redis must not hold a check for long. */
export async function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether the connection is down for now (between reconnect attempts, or closed):
 * then a hot-path call answers degraded at once instead of waiting in the offline queue.
 */
export function isRedisAway(client: Redis): boolean {
  return client.status === 'reconnecting' || client.status === 'end' || client.status === 'close';
}
