/**
 * Checks an API key over Redis, as an operator's service would (docs/rpc-over-redis.md).
 *
 *   REDIS_URL=redis://127.0.0.1:6379 REDIS_PREFIX=lk INTERNAL_TOKEN=… \
 *     node -r @swc-node/register scripts/examples/verify-over-redis.ts sk_test_… [permission …]
 *
 * Prints the verdict as JSON; exits 0 when the key passes, 1 when it is refused, 2 on an error.
 */
import Redis from 'ioredis';

import { RedisRpcCaller, RpcRefusedError, RpcTimeoutError } from '@latchkey/redis-rpc';

async function main(): Promise<number> {
  const [key, ...permissions] = process.argv.slice(2);
  if (!key) {
    console.error('usage: verify-over-redis.ts <api key> [permission …]');
    return 2;
  }
  const token = process.env.INTERNAL_TOKEN;
  const latchkey = new RedisRpcCaller({
    connect: () => new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 }),
    prefix: process.env.REDIS_PREFIX ?? 'lk',
    credential: token ? { name: 'internal', secret: token } : { name: 'none' },
  });
  try {
    const verdict = await latchkey.call<{ valid: boolean }>('auth.verify', { key, permissions }, { timeoutMs: 2_000 });
    console.log(JSON.stringify(verdict));
    return verdict.valid ? 0 : 1;
  } catch (error) {
    if (error instanceof RpcRefusedError) console.error(`refused: ${error.body.code}: ${error.body.message}`);
    else if (error instanceof RpcTimeoutError) console.error('no auth-check answered within 2 s');
    else console.error(error instanceof Error ? error.message : String(error));
    return 2;
  } finally {
    await latchkey.close();
  }
}

void main().then((code) => process.exit(code));
