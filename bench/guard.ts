import 'reflect-metadata';

import { TestEnvironment } from '../test/support/test-environment';
import {
  api,
  BenchServer,
  closeHttpAgent,
  formatRow,
  httpCall,
  latchkeyBenchConfig,
  load,
  LoadResult,
  log,
  numberFromEnv,
  paced,
} from './support';

/**
 * `npm run bench:guard` — what the SDK's Nest guard adds to each request of an operator's
 * service (bench/servers/guarded-service.ts), over HTTP (`POST /v1/verify`) and over Redis
 * (`auth.verify`), against the same service's handler calling the same verifier itself, in
 * the same run. Ceilings beside them: the service's route with no check, and a bare node:http
 * server. One Latchkey process (org-api, key-issuer, auth-check) issues the key and answers;
 * every server is a child process on 127.0.0.1, in a private database and Redis prefix
 * dropped at the end. Each route is measured twice: at saturation (autocannon, closed loop)
 * and at a steady rate well below it (open loop), where p50/p99 are the latency a request
 * sees rather than the queue in front of it, in rounds. Tunable by environment:
 *
 *   BENCH_DURATION_SECONDS  each measured run (10)      BENCH_CONNECTIONS  autocannon connections (32)
 *   BENCH_WARMUP_SECONDS    unmeasured run before (2)   BENCH_GUARD_RATE   requests/s of the steady runs (200)
 *   BENCH_ROUNDS            rounds, in alternate order; each route's median round reported (2)
 *   BENCH_LOG_LEVEL         Latchkey LOG_LEVEL (info; logs are discarded)
 */
const DURATION_SECONDS = numberFromEnv('BENCH_DURATION_SECONDS', 10);
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 32);
const RATE = numberFromEnv('BENCH_GUARD_RATE', 200);
const ROUNDS = Math.max(1, numberFromEnv('BENCH_ROUNDS', 2));
/** Paced runs keep only 4 sockets: at a rate far below saturation few requests overlap. */
const PACED_CONNECTIONS = 4;
const INTERNAL_TOKEN = 'bench-internal-token-'.padEnd(40, 'x');

interface Row {
  name: string;
  saturated: LoadResult;
  steady: LoadResult;
}

async function main(): Promise<void> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const env = await TestEnvironment.create();
    cleanups.push(() => env.destroy());
    const config = { ...latchkeyBenchConfig(env, 'info'), TARGET: 'org-api,key-issuer,auth-check', INTERNAL_TOKEN };

    log('starting Latchkey, the node:http ceiling and the service over HTTP and over Redis');
    const latchkey = await BenchServer.start('latchkey', 'latchkey-server.ts', { BENCH_CONFIG: JSON.stringify(config) });
    cleanups.push(() => latchkey.stop());
    const service = (name: string, verifier: object) =>
      BenchServer.start(name, 'guarded-service.ts', { BENCH_VERIFIER: JSON.stringify({ ...verifier, internalToken: INTERNAL_TOKEN }) });
    const [ceiling, overHttp, overRedis] = await Promise.all([
      BenchServer.start('node-http', 'node-http-server.ts'),
      service('service-http', { baseUrl: latchkey.url('') }),
      service('service-redis', { redis: { url: env.config().REDIS_URL, prefix: env.redisPrefix } }),
    ]);
    cleanups.push(
      () => ceiling.stop(),
      () => overHttp.stop(),
      () => overRedis.stop(),
    );

    const session = await api<{ token: string }>(latchkey.url('/v1/auth/signup'), {
      body: { email: `bench-guard-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Bench', org_name: 'Bench' },
    });
    const key = await api<{ secret: string }>(latchkey.url('/v1/api-keys'), {
      token: session.token,
      body: { name: 'bench guard key', environment: 'test' },
    });
    const headers = { 'x-api-key': key.secret };
    // Every checked route must pass before it is measured (and the key is then cached in auth-check).
    for (const server of [overHttp, overRedis]) {
      for (const path of ['/guarded', '/direct']) {
        const answer = await httpCall(server.url(path), { headers });
        if (answer.status !== 200) throw new Error(`${server.name} ${path} answered ${answer.status}: ${answer.body}`);
      }
    }

    const routes: Array<[string, string]> = [
      ['bare node:http', ceiling.url('/')],
      ['Nest route, no check', overHttp.url('/bare')],
      ['HTTP: handler calls verify', overHttp.url('/direct')],
      ['HTTP: SDK guard', overHttp.url('/guarded')],
      ['Redis: handler calls verify', overRedis.url('/direct')],
      ['Redis: SDK guard', overRedis.url('/guarded')],
    ];
    const runs = new Map<string, Row[]>(routes.map(([name]) => [name, []]));
    const measure = async (round: number, name: string, url: string): Promise<void> => {
      const saturate = (seconds: number) => load({ url, headers, durationSeconds: seconds, connections: CONNECTIONS });
      if (WARMUP_SECONDS > 0) await saturate(WARMUP_SECONDS);
      const saturated = await saturate(DURATION_SECONDS);
      const steady = await paced({ url, headers, rate: RATE, durationSeconds: DURATION_SECONDS, connections: PACED_CONNECTIONS });
      log(`round ${round}, ${name}: saturated ${formatRow(saturated)}; at ${RATE}/s ${formatRow(steady)}`);
      runs.get(name)!.push({ name, saturated, steady });
    };
    // Rounds in alternate order, so neither the guard nor the direct call always runs first
    // while the box's load drifts.
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const [name, url] of round % 2 === 1 ? routes : [...routes].reverse()) await measure(round, name, url);
    }
    const rows = routes.map(([name]) => medianRow(runs.get(name)!));

    const named = (name: string) => rows.find((row) => row.name === name)!;
    const bare = named('Nest route, no check');
    log('summary');
    console.log(`| route | req/s | vs no check | p50 / p99 at saturation | p50 / p99 at ${RATE}/s |`);
    console.log('| --- | --- | --- | --- | --- |');
    for (const { name, saturated, steady } of rows) {
      console.log(
        `| ${name} | ${Math.round(saturated.requestsPerSecond)} | ${percent(saturated, bare.saturated)} | ` +
          `${saturated.p50Ms.toFixed(2)} / ${saturated.p99Ms.toFixed(2)} ms | ${steady.p50Ms.toFixed(2)} / ${steady.p99Ms.toFixed(2)} ms |`,
      );
    }
    for (const transport of ['HTTP', 'Redis']) {
      const guard = named(`${transport}: SDK guard`);
      const direct = named(`${transport}: handler calls verify`);
      log(
        `${transport}: the guard at ${percent(guard.saturated, direct.saturated)} of the direct call's req/s; ` +
          `added p50 ${delta(guard.steady.p50Ms, direct.steady.p50Ms)}, p99 ${delta(guard.steady.p99Ms, direct.steady.p99Ms)} at ${RATE}/s`,
      );
    }
    if ([...runs.values()].flat().some((row) => row.saturated.failures > 0 || row.steady.failures > 0)) {
      throw new Error('a run had failures: its figures are not valid');
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
    closeHttpAgent();
  }
}

/** The round with the median saturated req/s (the lower middle one of an even count), both its figures. */
function medianRow(rows: Row[]): Row {
  const sorted = [...rows].sort((a, b) => a.saturated.requestsPerSecond - b.saturated.requestsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function percent(result: LoadResult, of: LoadResult): string {
  return `${Math.round((100 * result.requestsPerSecond) / of.requestsPerSecond)} %`;
}

function delta(value: number, from: number): string {
  const difference = value - from;
  return `${difference >= 0 ? '+' : '−'}${Math.abs(difference).toFixed(2)} ms`;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
