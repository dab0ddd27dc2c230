import 'reflect-metadata';

import { AuthCheckPattern } from '@latchkey/contracts';
import { createRedisClient, RedisPurpose } from '@latchkey/platform';
import { RedisRpcCaller } from '@latchkey/redis-rpc';

import { TestEnvironment } from '../test/support/test-environment';
import { api, BenchServer, closedLoop, closeHttpAgent, formatRow, httpCall, load, LoadResult, log, numberFromEnv } from './support';

/**
 * `npm run bench:rpc` — `auth.verify` over RPC on Redis Streams (docs/rpc-over-redis.md)
 * against `POST /v1/verify` over HTTP, on the same cached key, at the same concurrency, in
 * the same run: first with one auth-check instance, then with three (on a 2-core box three
 * instances prove the load spreads, not a speed-up). A process with org-api and key-issuer
 * issues the key. Tunable by environment:
 *
 * A row "transport alone" calls `bench.echo` on a bare responder that answers its payload
 * (bench/servers/rpc-echo-server.ts): what the transport costs a call, without Nest or the check.
 *
 *   BENCH_DURATION_SECONDS  each measured run (10)     BENCH_CONCURRENCY  calls in flight (64)
 *   BENCH_WARMUP_SECONDS    unmeasured run before (2)  BENCH_LOG_LEVEL    Latchkey LOG_LEVEL (info)
 *   BENCH_RPC_MODE          `all` (default), or `transport` for the transport-alone row only
 */
const DURATION_SECONDS = numberFromEnv('BENCH_DURATION_SECONDS', 10);
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2);
const CONCURRENCY = numberFromEnv('BENCH_CONCURRENCY', 64);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const MODE = process.env.BENCH_RPC_MODE ?? 'all';

async function main(): Promise<void> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const env = await TestEnvironment.create();
    cleanups.push(() => env.destroy());
    const base = env.config();
    const config = { NODE_ENV: 'test', LOG_LEVEL, DATABASE_URL: env.databaseUrl, REDIS_URL: base.REDIS_URL, REDIS_PREFIX: env.redisPrefix };
    const start = (name: string, target: string) =>
      BenchServer.start(name, 'latchkey-server.ts', { BENCH_CONFIG: JSON.stringify({ ...config, TARGET: target }) });
    const caller = new RedisRpcCaller({
      connect: () => createRedisClient(base.REDIS_URL, RedisPurpose.Rpc),
      prefix: env.redisPrefix,
      credential: { name: 'service', secret: base.serviceSecrets[0] },
    });
    cleanups.push(() => caller.close());
    const measure = async (name: string, run: (seconds: number) => Promise<LoadResult>): Promise<LoadResult> => {
      if (WARMUP_SECONDS > 0) await run(WARMUP_SECONDS);
      const result = await run(DURATION_SECONDS);
      log(`${name}: ${formatRow(result)}`);
      return result;
    };

    const transportAlone = async (): Promise<LoadResult> => {
      log('starting a bare responder');
      const echo = await BenchServer.start('rpc-echo', 'rpc-echo-server.ts', {
        BENCH_RPC_ECHO: JSON.stringify({
          REDIS_URL: base.REDIS_URL,
          REDIS_PREFIX: env.redisPrefix,
          SERVICE_SECRET: base.serviceSecrets[0],
        }),
      });
      try {
        const payload = { key: 'lk_test_0123456789abcdef0123456789abcdef' };
        return await measure(`bench.echo over RPC, transport alone (${CONCURRENCY} in flight)`, (seconds) =>
          closedLoop(() => caller.call('bench.echo', payload, { timeoutMs: 5_000 }), seconds, CONCURRENCY),
        );
      } finally {
        await echo.stop();
      }
    };
    if (MODE === 'transport') {
      const echo = await transportAlone();
      if (echo.failures > 0) throw new Error('the run had failures: its figures are not valid');
      return;
    }

    log('starting an admin process and one auth-check');
    const [admin, first] = await Promise.all([start('admin', 'org-api,key-issuer'), start('auth-check-1', 'auth-check')]);
    cleanups.push(
      () => admin.stop(),
      () => first.stop(),
    );
    const session = await api<{ token: string }>(admin.url('/v1/auth/signup'), {
      body: { email: `bench-rpc-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Bench', org_name: 'Bench' },
    });
    const key = await api<{ secret: string }>(admin.url('/v1/api-keys'), {
      token: session.token,
      body: { name: 'bench rpc key', environment: 'test' },
    });

    const overRpc = (seconds: number) =>
      closedLoop(
        async () => {
          const verdict = await caller.call<{ valid: boolean }>(AuthCheckPattern.VerifyKey, { key: key.secret }, { timeoutMs: 5_000 });
          if (!verdict.valid) throw new Error('not valid');
        },
        seconds,
        CONCURRENCY,
      );
    const body = JSON.stringify({ key: key.secret });
    const overHttp = (server: BenchServer) => (seconds: number) =>
      load({
        url: server.url('/v1/verify'),
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        durationSeconds: seconds,
        connections: CONCURRENCY,
      });
    // Both paths cache the key first, so each run measures the cached check.
    if ((await httpCall(first.url('/v1/verify'), { method: 'POST', body: { key: key.secret } })).status !== 200) {
      throw new Error('the warm-up verify failed');
    }
    const http = await measure(`POST /v1/verify over HTTP, one auth-check (${CONCURRENCY} in flight)`, overHttp(first));
    const rpcOne = await measure(`auth.verify over RPC, one auth-check (${CONCURRENCY} in flight)`, overRpc);
    const echo = await transportAlone();

    log('starting two more auth-checks');
    const more = await Promise.all([start('auth-check-2', 'auth-check'), start('auth-check-3', 'auth-check')]);
    cleanups.push(...more.map((server) => () => server.stop()));
    const rpcThree = await measure(`auth.verify over RPC, three auth-checks (${CONCURRENCY} in flight)`, overRpc);

    const ratio = (result: LoadResult) => `${Math.round((100 * result.requestsPerSecond) / http.requestsPerSecond)} % of HTTP`;
    log('summary');
    console.log(`| run | requests/s | p50 | p99 | vs HTTP |`);
    console.log(`| --- | --- | --- | --- | --- |`);
    for (const [name, result] of [
      ['HTTP, 1 instance', http],
      ['RPC, 1 instance', rpcOne],
      ['RPC transport alone, 1 instance', echo],
      ['RPC, 3 instances', rpcThree],
    ] as const) {
      console.log(
        `| ${name} | ${Math.round(result.requestsPerSecond)} | ${result.p50Ms.toFixed(2)} ms | ${result.p99Ms.toFixed(2)} ms | ${ratio(result)} |`,
      );
    }
    const runs = [http, rpcOne, echo, rpcThree];
    if (runs.some((result) => result.failures > 0)) throw new Error('a run had failures: its figures are not valid');
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
    closeHttpAgent();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
