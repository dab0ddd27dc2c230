import { AppConfigValues } from '@latchkey/config';
import { createRedisClient, RedisPurpose } from '@latchkey/platform';
import { RedisRpcCaller, RpcCredential, RpcRefusedError } from '@latchkey/redis-rpc';

/**
 * A caller of the deployment's RPC, as another Latchkey process (SERVICE_SECRET, the
 * default) or an operator's service (INTERNAL_TOKEN, or unsigned) would hold it.
 */
export function rpcCaller(config: AppConfigValues, credential?: RpcCredential): RedisRpcCaller {
  return new RedisRpcCaller({
    // As the deployment connects: a single Redis, or its cluster when REDIS_CLUSTER_NODES is set.
    connect: () => createRedisClient({ get: (key) => config[key] }, RedisPurpose.Rpc),
    prefix: config.REDIS_PREFIX,
    credential: credential ?? { name: 'service', secret: config.serviceSecrets[0] },
  });
}

/** One call; a refusal rejects with the handler's error body ({ code, message, details, … }), as callers see it on the wire. */
export async function rpcCall<T>(caller: RedisRpcCaller, pattern: string, payload: unknown, timeoutMs = 5_000): Promise<T> {
  try {
    return await caller.call<T>(pattern, payload, { timeoutMs });
  } catch (error) {
    throw error instanceof RpcRefusedError ? error.body : error;
  }
}
