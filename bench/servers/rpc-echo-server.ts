import { createRedisClient, RedisPurpose } from '@latchkey/platform';
import { RedisRpcResponder } from '@latchkey/redis-rpc';

import { ListeningMessage } from './child-protocol';

/**
 * The RPC transport alone (BENCH_RPC_ECHO, JSON: REDIS_URL, REDIS_PREFIX, SERVICE_SECRET):
 * a responder whose one pattern, `bench.echo`, answers its payload, so `bench:rpc` can tell
 * what the transport costs a call from what Nest and the check add to it. It serves no
 * HTTP: the port it announces is only the parent's sign that it reads its stream.
 */
async function main(): Promise<void> {
  const settings = JSON.parse(process.env.BENCH_RPC_ECHO ?? '{}') as { REDIS_URL: string; REDIS_PREFIX: string; SERVICE_SECRET: string };
  const responder = new RedisRpcResponder({
    connect: () => createRedisClient(settings.REDIS_URL, RedisPurpose.Rpc),
    prefix: settings.REDIS_PREFIX,
    patterns: ['bench.echo'],
    serviceSecrets: [settings.SERVICE_SECRET],
    internalSecrets: [],
    internalPatterns: new Set(),
    handle: (_pattern, payload) => Promise.resolve({ ok: true, data: payload }),
  });
  await responder.start();
  process.send?.({ type: 'listening', port: -1 } satisfies ListeningMessage);
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 10_000).unref();
    responder.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stop') close();
  });
  process.on('disconnect', close);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
