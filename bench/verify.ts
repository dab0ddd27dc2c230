import 'reflect-metadata';

import { setTimeout as sleep } from 'node:timers/promises';

import { Logger } from '@nestjs/common';

import { AuthCheckPattern } from '@latchkey/contracts';
import { createRedisClient, RedisPurpose } from '@latchkey/platform';
import { RedisRpcCaller } from '@latchkey/redis-rpc';

import { TestEnvironment } from '../test/support/test-environment';
import {
  api,
  BenchServer,
  closedLoop,
  closeHttpAgent,
  formatRow,
  HttpAnswer,
  httpCall,
  load,
  LoadResult,
  log,
  ms,
  numberFromEnv,
  paced,
  percentile,
} from './support';

/**
 * `npm run bench:verify` — the verify hot path against a bare route on the same Nest 11 + Fastify
 * stack (docs/performance.md#targets). Everything runs on 127.0.0.1: a bare server, Latchkey
 * process A (org-api, key-issuer, auth-check: the all-in-one mode) and a dedicated auth-check
 * process B (TARGET=auth-check, how the hot path is deployed on its own), each a child process, in
 * a private database and Redis prefix that are dropped at the end. The check is measured on both;
 * the targets are judged on B, and A's figures are printed beside them. Tunable by environment:
 *
 *   BENCH_DURATION_SECONDS  each measured run (10)      BENCH_CONNECTIONS       autocannon connections (50)
 *   BENCH_ROUNDS            interleaved rounds of the HTTP routes, median reported (3)
 *   BENCH_WARMUP_SECONDS    unmeasured run before (2)    BENCH_RPC_CONCURRENCY   auth.verify in flight (64)
 *   BENCH_MISS_SAMPLES      cache-miss probes (200)      BENCH_REVOKE_ROUNDS     revocations timed (5)
 *   BENCH_LOG_LEVEL         Latchkey LOG_LEVEL (info, the deployment default; logs are discarded)
 *   BENCH_CPU_PROF          a directory: the servers write V8 CPU profiles there
 */
const DURATION_SECONDS = numberFromEnv('BENCH_DURATION_SECONDS', 10);
const ROUNDS = Math.max(1, numberFromEnv('BENCH_ROUNDS', 3));
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 50);
const RPC_CONCURRENCY = numberFromEnv('BENCH_RPC_CONCURRENCY', 64);
const MISS_SAMPLES = numberFromEnv('BENCH_MISS_SAMPLES', 200);
/** The start of each paced run left unmeasured (fresh connections are not the steady state). */
const PACED_WARM_UP_SECONDS = 1;
const REVOKE_ROUNDS = numberFromEnv('BENCH_REVOKE_ROUNDS', 5);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
/** How long one revocation may take before the round counts as failed. */
const REVOKE_GIVE_UP_MS = 15_000;

interface Row {
  name: string;
  result: LoadResult;
}

interface HalfPeak {
  server: string;
  rate: number;
  result: LoadResult;
}

const BARE = 'bare Nest+Fastify route';
const BARE_ANSWER = 'bare route sending a check’s answer';
const CHECK_ON_B = 'GET /v1/check, cached key (auth-check alone)';
const CHECK_ON_A = 'GET /v1/check, cached key (all-in-one)';

function rowNamed(rows: Row[], name: string): LoadResult {
  const row = rows.find((candidate) => candidate.name === name);
  if (!row) throw new Error(`no run named ${name}`);
  return row.result;
}

async function main(): Promise<void> {
  // The transport client's debug lines (late replies and the like) are not the bench's output.
  Logger.overrideLogger(['fatal', 'error', 'warn']);
  const started = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    log('interrupted: cleaning up');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const checkInterrupted = () => {
    if (interrupted) throw new Error('interrupted');
  };

  try {
    log('preparing a private database and Redis prefix');
    const env = await TestEnvironment.create();
    cleanups.push(() => env.destroy());
    log(`database ${env.databaseName}, Redis prefix ${env.redisPrefix}`);
    const base = env.config();
    const config: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL,
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: base.REDIS_URL,
      REDIS_PREFIX: env.redisPrefix,
    };

    log('starting two Latchkey processes');
    const [latchkey, second] = await Promise.all([
      BenchServer.start('latchkey', 'latchkey-server.ts', {
        BENCH_CONFIG: JSON.stringify({ ...config, TARGET: 'org-api,key-issuer,auth-check' }),
      }),
      BenchServer.start('auth-check', 'latchkey-server.ts', { BENCH_CONFIG: JSON.stringify({ ...config, TARGET: 'auth-check' }) }),
    ]);
    cleanups.push(
      () => latchkey.stop(),
      () => second.stop(),
    );
    checkInterrupted();

    const session = await api<{ token: string }>(latchkey.url('/v1/auth/signup'), {
      body: { email: `bench-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Bench', org_name: 'Bench' },
    });
    const issue = (name: string, limits: Record<string, unknown> = {}) =>
      api<{ id: string; secret: string }>(latchkey.url('/v1/api-keys'), {
        token: session.token,
        body: { name, environment: 'test', ...limits },
      });
    const key = await issue('bench cached key');
    // A rate limit it never reaches: each check still runs the rate-limit script in Redis.
    const limitedKey = await issue('bench rate-limited key', { rate_limit: { limit: 1_000_000, window_seconds: 60 } });
    const limitedHeaders = { 'x-api-key': limitedKey.secret };
    const limitedWarmUp = await httpCall(second.url('/v1/check'), { headers: limitedHeaders });
    if (limitedWarmUp.status !== 200) throw new Error(`warm-up check of the rate-limited key answered ${limitedWarmUp.status}`);
    const checkHeaders = { 'x-api-key': key.secret };
    const verifyBody = JSON.stringify({ key: key.secret });
    let checkAnswer: HttpAnswer | null = null;
    for (const server of [latchkey, second]) {
      checkAnswer = await httpCall(server.url('/v1/check'), { headers: checkHeaders });
      if (checkAnswer.status !== 200) {
        throw new Error(`warm-up check on ${server.name} answered ${checkAnswer.status}: ${checkAnswer.body}`);
      }
    }

    // As a deployment's probes would, before any measurement (the health route runs the
    // request-scoped logger and ORM context, which the check routes never do).
    for (const server of [latchkey, second]) {
      const health = await httpCall(server.url('/health/ready'));
      if (health.status !== 200) throw new Error(`${server.name} is not ready: ${health.status} ${health.body}`);
    }

    // Two baselines on the bare stack: a trivial route, and one replaying the check's answer
    // byte for byte (its headers and body), which isolates what the check itself costs.
    log('starting the bare server');
    const bare = await BenchServer.start('bare', 'bare-server.ts', { BENCH_CHECK_ANSWER: JSON.stringify(replayable(checkAnswer!)) });
    cleanups.push(() => bare.stop());
    checkInterrupted();

    const rows: Row[] = [];
    const warm = async (run: (seconds: number) => Promise<LoadResult>) => {
      checkInterrupted();
      if (WARMUP_SECONDS > 0) await run(WARMUP_SECONDS);
    };
    const measure = async (name: string, run: (seconds: number) => Promise<LoadResult>) => {
      await warm(run);
      checkInterrupted();
      const result = await run(DURATION_SECONDS);
      rows.push({ name, result });
      log(`${name}: ${formatRow(result)}`);
      return result;
    };

    // The HTTP routes are compared in interleaved rounds (median of each): this box's speed
    // drifts by tens of percent from one minute to the next, which would decide a
    // comparison of single back-to-back runs.
    const routes: { name: string; run: (seconds: number) => Promise<LoadResult> }[] = [
      {
        name: BARE,
        run: (seconds) => load({ url: bare.url('/bare'), durationSeconds: seconds, connections: CONNECTIONS }),
      },
      {
        name: BARE_ANSWER,
        run: (seconds) => load({ url: bare.url('/bare-answer'), durationSeconds: seconds, connections: CONNECTIONS }),
      },
      {
        name: CHECK_ON_B,
        run: (seconds) => load({ url: second.url('/v1/check'), headers: checkHeaders, durationSeconds: seconds, connections: CONNECTIONS }),
      },
      {
        name: 'GET /v1/check, rate-limited key (auth-check alone)',
        run: (seconds) =>
          load({ url: second.url('/v1/check'), headers: limitedHeaders, durationSeconds: seconds, connections: CONNECTIONS }),
      },
      {
        name: CHECK_ON_A,
        run: (seconds) =>
          load({ url: latchkey.url('/v1/check'), headers: checkHeaders, durationSeconds: seconds, connections: CONNECTIONS }),
      },
      {
        name: 'POST /v1/verify, cached key (auth-check alone)',
        run: (seconds) =>
          load({
            url: second.url('/v1/verify'),
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: verifyBody,
            durationSeconds: seconds,
            connections: CONNECTIONS,
          }),
      },
    ];
    for (const route of routes) await warm(route.run);
    const results = routes.map((): LoadResult[] => []);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [index, route] of routes.entries()) {
        checkInterrupted();
        const result = await route.run(DURATION_SECONDS);
        results[index].push(result);
        log(`round ${round + 1}/${ROUNDS} ${route.name}: ${formatRow(result)}`);
      }
    }
    routes.forEach((route, index) => rows.push({ name: route.name, result: medianRun(results[index], 'requestsPerSecond') }));

    const client = new RedisRpcCaller({
      connect: () => createRedisClient(config.REDIS_URL, RedisPurpose.Rpc),
      prefix: config.REDIS_PREFIX,
      credential: { name: 'service', secret: config.serviceSecrets[0] },
    });
    cleanups.push(() => client.close());
    await measure(`auth.verify over Redis (${RPC_CONCURRENCY} in flight)`, async (seconds) => {
      return closedLoop(
        async () => {
          const verdict = await client.call<{ valid: boolean }>(AuthCheckPattern.VerifyKey, { key: key.secret }, { timeoutMs: 5_000 });
          if (!verdict.valid) throw new Error('not valid');
        },
        seconds,
        RPC_CONCURRENCY,
      );
    });

    // Open loop at half of each process's measured peak, and the bare route at the
    // dedicated process's rate (what this box and this pacer allow a trivial route, so a
    // tail can be read against it), in interleaved rounds like the routes above: one
    // stall of this box decides a single 10 s run's p99.
    const halfRate = (name: string) => Math.max(1, Math.floor(rowNamed(rows, name).requestsPerSecond / 2));
    const pacedRuns = [
      { server: second.name, rate: halfRate(CHECK_ON_B), url: second.url('/v1/check'), headers: checkHeaders },
      { server: latchkey.name, rate: halfRate(CHECK_ON_A), url: latchkey.url('/v1/check'), headers: checkHeaders },
      { server: 'the bare route', rate: halfRate(CHECK_ON_B), url: bare.url('/bare'), headers: {} },
    ];
    const pacedResults = pacedRuns.map((): LoadResult[] => []);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [index, run] of pacedRuns.entries()) {
        checkInterrupted();
        const result = await paced({
          ...run,
          durationSeconds: DURATION_SECONDS,
          connections: CONNECTIONS,
          warmUpSeconds: PACED_WARM_UP_SECONDS,
        });
        pacedResults[index].push(result);
        log(`round ${round + 1}/${ROUNDS} GET ${new URL(run.url).pathname} on ${run.server} at ${run.rate}/s: ${formatRow(result)}`);
      }
    }
    const halves = pacedRuns
      .slice(0, 2)
      .map((run, index): HalfPeak => ({ server: run.server, rate: run.rate, result: medianRun(pacedResults[index], 'p99Ms') }));
    // Paced runs all have the same throughput: the median is the tail's.
    const bareAtHalf = medianRun(pacedResults[2], 'p99Ms');

    checkInterrupted();
    log(`issuing ${MISS_SAMPLES} keys for the cache-miss probes`);
    const missKeys: string[] = [];
    for (let index = 0; index < MISS_SAMPLES; index += 1) missKeys.push((await issue(`bench miss ${index}`)).secret);
    // Probed on B, one at a time: each key is new to B's cache, so each check asks the key service.
    const miss = await probeSequentially(missKeys, second, (answer) => answer.status === 200);
    const cachedProbe = await probeSequentially(
      missKeys.map(() => key.secret),
      second,
      (answer) => answer.status === 200,
    );
    log(
      `cache miss (GET /v1/check on B, one at a time): p50 ${ms(miss.p50)} p99 ${ms(miss.p99)}; cached, same client: p50 ${ms(cachedProbe.p50)}`,
    );

    checkInterrupted();
    const revocations: { fromRequest: number; fromAnswer: number }[] = [];
    for (let round = 0; round < REVOKE_ROUNDS; round += 1) {
      checkInterrupted();
      revocations.push(await timeRevocation(latchkey, second, session.token, await issue(`bench revoke ${round}`)));
    }
    const fromRequest = revocations.map((revocation) => revocation.fromRequest);
    const fromAnswer = revocations.map((revocation) => revocation.fromAnswer);
    log(`revocation reaching B: ${fromRequest.map(ms).join(', ')} after the revoke was sent`);

    printSummary(rows, halves, bareAtHalf, miss, cachedProbe.p50, fromRequest, fromAnswer);
    log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error(`cleanup failed: ${(error as Error).message}`));
    }
    closeHttpAgent();
  }
}

/** The check answer's own headers (x-latchkey-*, x-request-id) and body; the server adds the standard ones. */
function replayable(answer: HttpAnswer): { headers: Record<string, string>; body: unknown } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name.startsWith('x-') && typeof value === 'string') headers[name] = value;
  }
  return { headers, body: answer.body === '' ? undefined : (JSON.parse(answer.body) as unknown) };
}

/** One check per key, one at a time: the latency one caller sees. */
async function probeSequentially(keys: string[], server: BenchServer, ok: (answer: { status: number }) => boolean) {
  const latencies: number[] = [];
  for (const secret of keys) {
    const at = process.hrtime.bigint();
    const answer = await httpCall(server.url('/v1/check'), { headers: { 'x-api-key': secret } });
    latencies.push(Number(process.hrtime.bigint() - at) / 1e6);
    if (!ok(answer)) throw new Error(`probe answered ${answer.status}: ${answer.body}`);
  }
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/**
 * Revokes a key through the API on A while B, its cache warm, is polled as fast as it
 * answers; the time until B says 401, from when the revoke was sent and from its answer.
 */
async function timeRevocation(
  latchkey: BenchServer,
  second: BenchServer,
  token: string,
  key: { id: string; secret: string },
): Promise<{ fromRequest: number; fromAnswer: number }> {
  const headers = { 'x-api-key': key.secret };
  for (let warm = 0; warm < 3; warm += 1) {
    const answer = await httpCall(second.url('/v1/check'), { headers });
    if (answer.status !== 200) throw new Error(`warm-up check answered ${answer.status}`);
  }
  let revokedAt = 0;
  let answeredAt = 0;
  let refusedAt = 0;
  const poll = (async () => {
    while (revokedAt === 0 || performance.now() - revokedAt < REVOKE_GIVE_UP_MS) {
      const answer = await httpCall(second.url('/v1/check'), { headers });
      if (answer.status === 401) {
        refusedAt = performance.now();
        return;
      }
      if (answer.status !== 200) throw new Error(`poll answered ${answer.status}`);
    }
  })();
  await sleep(50);
  revokedAt = performance.now();
  await api(latchkey.url(`/v1/api-keys/${key.id}/revoke`), { token, body: {} });
  answeredAt = performance.now();
  await poll;
  if (refusedAt === 0) throw new Error(`B still passed a revoked key after ${REVOKE_GIVE_UP_MS} ms`);
  return { fromRequest: refusedAt - revokedAt, fromAnswer: Math.max(0, refusedAt - answeredAt) };
}

function printSummary(
  rows: Row[],
  halves: HalfPeak[],
  bareAtHalf: LoadResult,
  miss: { p50: number; p99: number },
  cachedP50: number,
  fromRequest: number[],
  fromAnswer: number[],
): void {
  const bare = rowNamed(rows, BARE);
  const sameAnswer = rowNamed(rows, BARE_ANSWER);
  const lines: string[] = [];
  lines.push('');
  lines.push(
    `Latchkey verify benchmark — ${DURATION_SECONDS} s per run, HTTP routes: median of ${ROUNDS} interleaved rounds, ` +
      `${CONNECTIONS} connections, Node ${process.version}`,
  );
  lines.push('');
  lines.push(
    `${'run'.padEnd(54)}${'req/s'.padStart(10)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'vs bare'.padStart(10)}${'failed'.padStart(8)}`,
  );
  for (const { name, result } of rows) {
    lines.push(
      `${name.padEnd(54)}${Math.round(result.requestsPerSecond).toString().padStart(10)}${ms(result.p50Ms).padStart(10)}` +
        `${ms(result.p99Ms).padStart(10)}${`${Math.round((100 * result.requestsPerSecond) / bare.requestsPerSecond)} %`.padStart(10)}` +
        `${String(result.failures).padStart(8)}`,
    );
  }
  lines.push('');
  const percentOfBare = (name: string) => rowNamed(rows, name).requestsPerSecond / bare.requestsPerSecond;
  const dedicated = percentOfBare(CHECK_ON_B);
  const allInOne = percentOfBare(CHECK_ON_A);
  const revocationWorst = Math.max(...fromRequest);
  lines.push(target('cached GET /v1/check ≥ 70 % of the bare route', `${Math.round(dedicated * 100)} %`, dedicated >= 0.7));
  lines.push(target('  … on the all-in-one process (A)', `${Math.round(allInOne * 100)} %`, allInOne >= 0.7));
  // The check's pass has no body, so the bare route replaying it may well be faster than `{"ok":true}`.
  const answerCost = Math.round(100 - (100 * sameAnswer.requestsPerSecond) / bare.requestsPerSecond);
  lines.push(
    target(
      '  … of a bare route sending the same answer',
      `${Math.round((100 * rowNamed(rows, CHECK_ON_B).requestsPerSecond) / sameAnswer.requestsPerSecond)} % (sending the ` +
        `answer's bytes made the bare route ${Math.abs(answerCost)} % ${answerCost >= 0 ? 'slower' : 'faster'})`,
      rowNamed(rows, CHECK_ON_B).requestsPerSecond / sameAnswer.requestsPerSecond >= 0.7,
    ),
  );
  halves.forEach(({ server, rate, result }, index) => {
    const label = index === 0 ? `p99 < 5 ms at half of peak (${rate}/s on ${server})` : `  … on ${server} (${rate}/s)`;
    lines.push(target(label, `${ms(result.p99Ms)} (p50 ${ms(result.p50Ms)})`, result.p99Ms < 5 && result.failures === 0));
  });
  lines.push(`      the bare route at ${halves[0].rate}/s, same pacer: p99 ${ms(bareAtHalf.p99Ms)} (p50 ${ms(bareAtHalf.p50Ms)})`);
  lines.push(target('cache miss < 5 ms p50', `${ms(miss.p50)} (p99 ${ms(miss.p99)}; cached ${ms(cachedP50)})`, miss.p50 < 5));
  lines.push(
    target(
      'revocation visible on a second instance < 1 s',
      `worst ${ms(revocationWorst)}, median ${ms(percentile(fromRequest, 50))} from the revoke sent ` +
        `(${ms(percentile(fromAnswer, 50))} after its answer)`,
      revocationWorst < 1000,
    ),
  );
  lines.push('');
  lines.push('autocannon latencies have 1 ms resolution; the half-peak runs (open loop, latency from when each request was due,');
  lines.push(`median p99 of ${ROUNDS} interleaved rounds after ${PACED_WARM_UP_SECONDS} s unmeasured),`);
  lines.push('auth.verify, miss and revocation times are measured with a sub-millisecond clock.');
  lines.push('Numbers from a shared or busy machine are indicative only.');
  console.log(lines.join('\n'));
}

function target(name: string, value: string, met: boolean): string {
  return `${met ? 'MET ' : 'MISS'}  ${name.padEnd(52)} ${value}`;
}

/**
 * The run with the median `by` (its other figures with it, so a row is one real run),
 * carrying the failures of every round: a target is not met by a round that failed requests.
 */
function medianRun(runs: LoadResult[], by: 'requestsPerSecond' | 'p99Ms'): LoadResult {
  const sorted = [...runs].sort((a, b) => a[by] - b[by]);
  const failures = runs.reduce((sum, run) => sum + run.failures, 0);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], failures };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
