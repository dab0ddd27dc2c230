import 'reflect-metadata';

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import Redis from 'ioredis';
import { Client } from 'pg';

import { TestEnvironment } from '../test/support/test-environment';
import {
  api,
  BenchServer,
  closeHttpAgent,
  httpCall,
  latchkeyBenchConfig,
  load,
  LoadResult,
  log,
  ms,
  numberFromEnv,
  paced,
} from './support';

/**
 * `npm run bench:system` — what a metered check costs the whole system (docs/performance.md#method).
 * A bare node:http server (an empty 200) is the ceiling, measured in the same rounds. Two layouts, one
 * after the other on one private database and Redis prefix: the all-in-one process `npm start` runs
 * (TARGET=all), and a split one (org-api + key-issuer, auth-check, usage-worker: three processes).
 * For a plain key and a key with a rate limit it never reaches, each round runs closed-loop load,
 * waits until the usage worker has counted every check, and reads the CPU time (/proc/PID/stat) of
 * every Latchkey process, of the Postgres backends of the private database and of redis-server.
 * Then open-loop load at half of the plain key's peak, with the check process's event-loop delay.
 *
 *   BENCH_DURATION_SECONDS  each measured run (8)         BENCH_ROUNDS          interleaved rounds, median reported (3)
 *   BENCH_CONNECTIONS       autocannon connections (50)   BENCH_WARMUP_SECONDS  unmeasured run per route first (2)
 *   BENCH_LAYOUTS           all-in-one,split (either)     BENCH_CPU_PROF        a directory for V8 CPU profiles
 *
 * Redis is shared with whatever else runs on the box: its CPU during the bare run of the same round
 * (Latchkey idle) is taken as background and subtracted. Exits 1 when counted ÷ checked is not 1.
 */
const DURATION_SECONDS = numberFromEnv('BENCH_DURATION_SECONDS', 8);
const ROUNDS = Math.max(1, numberFromEnv('BENCH_ROUNDS', 3));
const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 50);
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2);
const LAYOUTS = (process.env.BENCH_LAYOUTS ?? 'all-in-one,split').split(',').map((name) => name.trim());
const PACED_WARM_UP_SECONDS = 1;
/** How long the count may stand still before the bench gives up on the drain. */
const DRAIN_STALL_MS = 30_000;
const TICKS_PER_SECOND = 100;

interface Layout {
  name: string;
  /** Where checks go. */
  check: BenchServer;
  /** Where keys are issued. */
  api: BenchServer;
  processes: BenchServer[];
}

/** CPU µs per check of one round, by part. */
interface CpuRound {
  checkProcess: number;
  latchkey: number;
  postgres: number;
  redis: number;
  whole: number;
}

interface LayoutResult {
  name: string;
  bare: { rps: number; cpuUs: number }[];
  plain: { rps: number; cpu: CpuRound }[];
  limited: { rps: number; cpu: CpuRound }[];
  halfPeak: { rate: number; check: LoadResult; bare: LoadResult; loop: LoopDelay }[];
}

interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** utime + stime of a process in µs (0 once it is gone). */
function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const env = await TestEnvironment.create();
    cleanups.push(() => env.destroy());
    const base = env.config();
    const config = latchkeyBenchConfig(env, 'info');
    const pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    cleanups.push(() => pg.end());
    const redis = new Redis(base.REDIS_URL);
    cleanups.push(async () => void redis.disconnect());
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? 0);

    const backendPids = async () =>
      (
        await pg.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
          env.databaseName,
        ])
      ).rows.map((row) => row.pid);
    let orgId = '';
    const counted = async () =>
      Number(
        (
          await pg.query<{ n: string }>(
            `select coalesce(sum(count), 0)::bigint as n from usage_counters where granularity = 'day' and org_id = $1`,
            [orgId],
          )
        ).rows[0].n,
      );
    let checked = 0;
    const drain = async () => {
      let last = -1;
      let lastMove = Date.now();
      for (;;) {
        const now = await counted();
        if (now >= checked) return now;
        if (now !== last) {
          last = now;
          lastMove = Date.now();
        } else if (Date.now() - lastMove > DRAIN_STALL_MS) throw new Error(`usage count stalled at ${now} of ${checked}`);
        await sleep(25);
      }
    };

    log('starting the bare node:http server');
    const bare = await BenchServer.start('node-http', 'node-http-server.ts');
    cleanups.push(() => bare.stop());

    let keys: { plain: string; limited: string } | null = null;
    const results: LayoutResult[] = [];
    for (const layoutName of LAYOUTS) {
      const layout = await startLayout(layoutName, config);
      try {
        if (!keys) {
          const session = await api<{ token: string; org: { id: string } }>(layout.api.url('/v1/auth/signup'), {
            body: { email: `bench-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Bench', org_name: 'Bench' },
          });
          orgId = session.org.id;
          const issue = (name: string, limits: Record<string, unknown> = {}) =>
            api<{ secret: string }>(layout.api.url('/v1/api-keys'), {
              token: session.token,
              body: { name, environment: 'test', ...limits },
            });
          // A rate limit it never reaches: each check still runs the rate-limit script in Redis.
          keys = {
            plain: (await issue('bench plain key')).secret,
            limited: (await issue('bench rate-limited key', { rate_limit: { limit: 1_000_000, window_seconds: 60 } })).secret,
          };
        }
        for (const secret of [keys.plain, keys.limited]) {
          const answer = await httpCall(layout.check.url('/v1/check'), { headers: { 'x-api-key': secret } });
          checked += 1;
          if (answer.status !== 200) throw new Error(`warm-up check on ${layout.name} answered ${answer.status}: ${answer.body}`);
        }
        results.push(await measureLayout(layout, bare, keys, { redisPid, backendPids, drain, addChecked: (n) => (checked += n) }));
      } finally {
        await Promise.all(layout.processes.map((server) => server.stop()));
      }
    }
    const finalCount = await drain();
    printSummary(results, finalCount, checked);
    if (finalCount !== checked) process.exitCode = 1;
    log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error(`cleanup failed: ${(error as Error).message}`));
    }
    closeHttpAgent();
  }
}

async function startLayout(name: string, config: Record<string, string>): Promise<Layout> {
  const start = (processName: string, target: string) =>
    BenchServer.start(processName, 'latchkey-server.ts', { BENCH_CONFIG: JSON.stringify({ ...config, TARGET: target }) });
  log(`starting the ${name} layout`);
  if (name === 'all-in-one') {
    const all = await start('all-in-one', 'all');
    return { name, check: all, api: all, processes: [all] };
  }
  if (name === 'split') {
    const [apiServer, check, worker] = await Promise.all([
      start('org-api', 'org-api,key-issuer'),
      start('auth-check', 'auth-check'),
      start('usage-worker', 'usage-worker'),
    ]);
    return { name, check, api: apiServer, processes: [apiServer, check, worker] };
  }
  throw new Error(`BENCH_LAYOUTS: unknown layout ${name} (all-in-one, split)`);
}

async function measureLayout(
  layout: Layout,
  bare: BenchServer,
  keys: { plain: string; limited: string },
  probes: { redisPid: number; backendPids: () => Promise<number[]>; drain: () => Promise<number>; addChecked: (n: number) => void },
): Promise<LayoutResult> {
  const checkRun = (secret: string) => (seconds: number) =>
    load({ url: layout.check.url('/v1/check'), headers: { 'x-api-key': secret }, durationSeconds: seconds, connections: CONNECTIONS });
  const bareRun = (seconds: number) => load({ url: bare.url('/'), durationSeconds: seconds, connections: CONNECTIONS });

  /** Every process's CPU µs now; Postgres backends are those of the private database (the pools are long-lived). */
  const snapshot = async () => {
    const pids = await probes.backendPids();
    return {
      processes: layout.processes.map((server) => cpuMicros(server.pid)),
      check: cpuMicros(layout.check.pid),
      postgres: new Map(pids.map((pid) => [pid, cpuMicros(pid)])),
      redis: cpuMicros(probes.redisPid),
      bare: cpuMicros(bare.pid),
      at: performance.now(),
    };
  };
  type Snapshot = Awaited<ReturnType<typeof snapshot>>;
  const postgresDelta = (before: Snapshot, after: Snapshot) =>
    [...after.postgres].reduce((sum, [pid, us]) => sum + us - (before.postgres.get(pid) ?? 0), 0);

  log(`${layout.name}: warming up`);
  if (WARMUP_SECONDS > 0) {
    await bareRun(WARMUP_SECONDS);
    for (const secret of [keys.plain, keys.limited]) probes.addChecked(sentOf(await checkRun(secret)(WARMUP_SECONDS)));
    await probes.drain();
  }
  const result: LayoutResult = { name: layout.name, bare: [], plain: [], limited: [], halfPeak: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    const beforeBare = await snapshot();
    const bareResult = await bareRun(DURATION_SECONDS);
    const afterBare = await snapshot();
    const bareCpu = (afterBare.bare - beforeBare.bare) / sentOf(bareResult);
    result.bare.push({ rps: bareResult.requestsPerSecond, cpuUs: bareCpu });
    // Redis serves others on this box too: its rate while Latchkey idles is background.
    const redisBackgroundPerMs = (afterBare.redis - beforeBare.redis) / (afterBare.at - beforeBare.at);
    log(
      `round ${round + 1}/${ROUNDS} node:http: ${Math.round(bareResult.requestsPerSecond)} req/s, ${bareCpu.toFixed(1)} µs CPU per request`,
    );
    for (const kind of ['plain', 'limited'] as const) {
      const before = await snapshot();
      const run = await checkRun(keys[kind])(DURATION_SECONDS);
      const sent = sentOf(run);
      probes.addChecked(sent);
      await probes.drain();
      const after = await snapshot();
      const latchkey = after.processes.reduce((sum, us, index) => sum + us - before.processes[index], 0) / sent;
      const postgres = postgresDelta(before, after) / sent;
      const redisUs = Math.max(0, after.redis - before.redis - redisBackgroundPerMs * (after.at - before.at)) / sent;
      const cpu: CpuRound = {
        checkProcess: (after.check - before.check) / sent,
        latchkey,
        postgres,
        redis: redisUs,
        whole: latchkey + postgres + redisUs,
      };
      result[kind].push({ rps: run.requestsPerSecond, cpu });
      log(
        `round ${round + 1}/${ROUNDS} ${layout.name} ${kind}: ${Math.round(run.requestsPerSecond)} req/s, ${run.failures} failed; ` +
          `µs per check: check process ${cpu.checkProcess.toFixed(1)}, whole ${cpu.whole.toFixed(1)} ` +
          `(Latchkey ${latchkey.toFixed(1)}, Postgres ${postgres.toFixed(1)}, Redis ${redisUs.toFixed(1)})`,
      );
    }
  }
  const rate = Math.max(1, Math.floor(median(result.plain.map((run) => run.rps)) / 2));
  for (let round = 0; round < ROUNDS; round += 1) {
    await layout.check.ask('loop-delay-reset');
    const check = await paced({
      url: layout.check.url('/v1/check'),
      headers: { 'x-api-key': keys.plain },
      rate,
      durationSeconds: DURATION_SECONDS,
      connections: CONNECTIONS,
      warmUpSeconds: PACED_WARM_UP_SECONDS,
    });
    const loop = await layout.check.ask<LoopDelay>('loop-delay');
    probes.addChecked(check.total + Math.floor(rate * PACED_WARM_UP_SECONDS));
    const bareResult = await paced({
      url: bare.url('/'),
      rate,
      durationSeconds: DURATION_SECONDS,
      connections: CONNECTIONS,
      warmUpSeconds: PACED_WARM_UP_SECONDS,
    });
    result.halfPeak.push({ rate, check, bare: bareResult, loop });
    log(
      `round ${round + 1}/${ROUNDS} ${layout.name} at ${rate}/s: p50 ${ms(check.p50Ms)} p99 ${ms(check.p99Ms)} ` +
        `(bare p99 ${ms(bareResult.p99Ms)}); event-loop delay p99 ${ms(loop.p99Ms)} max ${ms(loop.maxMs)}`,
    );
  }
  await probes.drain();
  return result;
}

/** Checks the run made Latchkey meter: autocannon's requests still in flight at its end are answered too. */
function sentOf(run: LoadResult): number {
  return run.sent ?? run.total;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)];
}

function printSummary(results: LayoutResult[], finalCount: number, checked: number): void {
  const lines: string[] = [
    '',
    `Latchkey system benchmark — ${DURATION_SECONDS} s runs, median of ${ROUNDS} rounds, Node ${process.version}`,
    '',
  ];
  const verdicts: string[] = [];
  const verdict = (name: string, value: string, met: boolean) => verdicts.push(`${met ? 'MET ' : 'MISS'}  ${name.padEnd(60)} ${value}`);
  for (const layout of results) {
    const bareCpu = median(layout.bare.map((run) => run.cpuUs));
    const bareRps = median(layout.bare.map((run) => run.rps));
    lines.push(`${layout.name}: node:http ${Math.round(bareRps)} req/s, ${bareCpu.toFixed(1)} µs CPU per request`);
    const figures = (kind: 'plain' | 'limited') => {
      const runs = layout[kind];
      const part = (name: keyof CpuRound) => median(runs.map((run) => run.cpu[name]));
      return {
        rps: median(runs.map((run) => run.rps)),
        check: part('checkProcess'),
        whole: part('whole'),
        latchkey: part('latchkey'),
        postgres: part('postgres'),
        redis: part('redis'),
      };
    };
    for (const kind of ['plain', 'limited'] as const) {
      const f = figures(kind);
      lines.push(
        `  ${kind.padEnd(8)} ${Math.round(f.rps)} req/s (${Math.round((100 * f.rps) / bareRps)} % of node:http); µs per check: ` +
          `check process ${f.check.toFixed(1)} (${(f.check / bareCpu).toFixed(2)}×), whole system ${f.whole.toFixed(1)} ` +
          `(${(f.whole / bareCpu).toFixed(2)}×: Latchkey ${f.latchkey.toFixed(1)}, Postgres ${f.postgres.toFixed(1)}, Redis ${f.redis.toFixed(1)})`,
      );
    }
    const plain = figures('plain');
    const limited = figures('limited');
    verdict(
      `${layout.name}: whole-system CPU per cached check ≤ 2.5× bare`,
      `${(plain.whole / bareCpu).toFixed(2)}×`,
      plain.whole / bareCpu <= 2.5,
    );
    if (layout.name === 'all-in-one') {
      verdict('all-in-one: its process alone ≤ 2.5× bare', `${(plain.check / bareCpu).toFixed(2)}×`, plain.check / bareCpu <= 2.5);
    } else {
      verdict(`${layout.name}: the auth-check process ≤ 1.5× bare`, `${(plain.check / bareCpu).toFixed(2)}×`, plain.check / bareCpu <= 1.5);
    }
    verdict(
      `${layout.name}: rate-limited check, whole system ≤ 4× bare`,
      `${(limited.whole / bareCpu).toFixed(2)}×`,
      limited.whole / bareCpu <= 4,
    );
    const quiet = layout.halfPeak.filter((run) => run.bare.p99Ms < 2);
    const p99 = median(quiet.map((run) => run.check.p99Ms));
    const rate = layout.halfPeak[0]?.rate ?? 0;
    lines.push(
      `  half peak ${rate}/s, open loop: ` +
        layout.halfPeak
          .map((run) => `p99 ${ms(run.check.p99Ms)} (bare ${ms(run.bare.p99Ms)}, loop p99 ${ms(run.loop.p99Ms)} max ${ms(run.loop.maxMs)})`)
          .join('; '),
    );
    verdict(
      `${layout.name}: p99 < 5 ms at half peak (rounds with bare p99 < 2 ms)`,
      quiet.length === 0 ? 'no quiet round' : `${ms(p99)} over ${quiet.length} of ${layout.halfPeak.length} rounds`,
      quiet.length > 0 && p99 < 5 && quiet.every((run) => run.check.failures === 0),
    );
    const loopP99 = median(layout.halfPeak.map((run) => run.loop.p99Ms));
    const loopMax = median(layout.halfPeak.map((run) => run.loop.maxMs));
    verdict(
      `${layout.name}: check process event-loop delay p99 < 2 ms, max < 20 ms`,
      `p99 ${ms(loopP99)}, max ${ms(loopMax)} (median of rounds)`,
      loopP99 < 2 && loopMax < 20,
    );
  }
  verdict('counted ÷ checked = 1', `${finalCount} / ${checked}`, finalCount === checked);
  lines.push(
    '',
    ...verdicts,
    '',
    'CPU from /proc/PID/stat (10 ms ticks); Redis less its background rate during the bare run of the round.',
  );
  lines.push('Numbers from a shared or busy machine are indicative only; CPU per check is the robust figure.');
  console.log(lines.join('\n'));
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
