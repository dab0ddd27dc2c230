import 'reflect-metadata';

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';
import { Client } from 'pg';

import { bullPrefix, USAGE_BATCH_JOB, USAGE_JOB_OPTIONS, USAGE_QUEUE, UsageColumnsWriter } from '@latchkey/contracts';

import { TestEnvironment } from '../test/support/test-environment';
import { api, BenchServer, closeHttpAgent, latchkeyBenchConfig, log, numberFromEnv } from './support';

/**
 * `npm run bench:usage-worker` — what the usage worker spends per counted
 * check, alone. Batches of the size auth-check sends are queued while the queue is paused, then
 * the worker (TARGET=usage-worker, its own process) drains them; the bench reads the CPU time
 * (/proc/PID/stat) of the worker and of the private database's Postgres backends over the drain,
 * and the worker's event-loop delay (its longest turn is what an all-in-one process's checks
 * would wait behind). Redis is shared with the box and left out.
 *
 *   BENCH_BATCHES   batches per round (200)      BENCH_BATCH_SIZE  events per batch (500)
 *   BENCH_ROUNDS    rounds, median reported (3)  BENCH_KEYS        keys the checks spread over (50)
 *   BENCH_CPU_PROF  a directory for the worker's V8 CPU profile
 */
const BATCHES = numberFromEnv('BENCH_BATCHES', 200);
const BATCH_SIZE = numberFromEnv('BENCH_BATCH_SIZE', 500);
const ROUNDS = Math.max(1, numberFromEnv('BENCH_ROUNDS', 3));
const KEYS = Math.max(1, numberFromEnv('BENCH_KEYS', 50));
const TICKS_PER_SECOND = 100;
const CODES = ['VALID', 'VALID', 'VALID', 'VALID', 'VALID', 'VALID', 'VALID', 'INSUFFICIENT_PERMISSIONS', 'RATE_LIMITED', 'NOT_FOUND'];

function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

async function main(): Promise<void> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const env = await TestEnvironment.create();
    cleanups.push(() => env.destroy());
    const base = env.config();
    const config = latchkeyBenchConfig(env, 'warn');
    const pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    cleanups.push(() => pg.end());
    const queue = new Queue(USAGE_QUEUE, { prefix: bullPrefix(env.redisPrefix), connection: { url: base.REDIS_URL } });
    cleanups.push(() => queue.close());

    const start = (name: string, target: string) =>
      BenchServer.start(name, 'latchkey-server.ts', { BENCH_CONFIG: JSON.stringify({ ...config, TARGET: target }) });
    const apiServer = await start('org-api', 'org-api,key-issuer');
    cleanups.push(() => apiServer.stop());
    const session = await api<{ token: string; org: { id: string } }>(apiServer.url('/v1/auth/signup'), {
      body: { email: `bench-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Bench', org_name: 'Bench' },
    });
    const keyIds: string[] = [];
    for (let i = 0; i < KEYS; i++) {
      // One key in five has a quota it never reaches: the quota watcher reads its usage each batch.
      const quota = i % 5 === 0 ? { quota: { limit: 1_000_000_000, period: 'month' } } : {};
      const key = await api<{ id: string }>(apiServer.url('/v1/api-keys'), {
        token: session.token,
        body: { name: `bench ${i}`, environment: 'test', ...quota },
      });
      keyIds.push(key.id);
    }
    await apiServer.stop();

    await queue.pause();
    const worker = await start('usage-worker', 'usage-worker');
    cleanups.push(() => worker.stop());

    const backendPids = async () =>
      (
        await pg.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
          env.databaseName,
        ])
      ).rows.map((row) => row.pid);
    const processed = async () => Number((await pg.query<{ n: string }>('select count(*) as n from usage_processed_batches')).rows[0].n);

    const results: { worker: number; postgres: number; seconds: number; loop: LoopDelay }[] = [];
    let done = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await queue.pause();
      const now = Date.now();
      for (let b = 0; b < BATCHES; b++) {
        const writer = new UsageColumnsWriter();
        for (let i = 0; i < BATCH_SIZE; i++) {
          const n = b * BATCH_SIZE + i;
          writer.add(
            {
              key_id: keyIds[n % keyIds.length],
              org_id: session.org.id,
              environment: 'test',
              code: CODES[n % CODES.length] as never,
              ip: `203.0.113.${n % 40}`,
              method: 'GET',
              path: '/v1/check',
              latency_us: 200 + (n % 300),
            },
            now - 1000 + Math.floor((i * 1000) / BATCH_SIZE),
          );
        }
        const batchId = `bat_${randomUUID()}`;
        await queue.add(USAGE_BATCH_JOB, { batch_id: batchId, columns: writer.finish() }, { ...USAGE_JOB_OPTIONS, jobId: batchId });
      }
      await sleep(500);
      const pids = await backendPids();
      const before = { worker: cpuMicros(worker.pid), postgres: pids.reduce((sum, pid) => sum + cpuMicros(pid), 0) };
      await worker.ask('loop-delay-reset');
      const started = Date.now();
      await queue.resume();
      done += BATCHES;
      while ((await processed()) < done) await sleep(20);
      const seconds = (Date.now() - started) / 1000;
      const loop = await worker.ask<LoopDelay>('loop-delay');
      await sleep(300);
      const after = { worker: cpuMicros(worker.pid), postgres: pids.reduce((sum, pid) => sum + cpuMicros(pid), 0) };
      const events = BATCHES * BATCH_SIZE;
      const result = {
        worker: (after.worker - before.worker) / events,
        postgres: (after.postgres - before.postgres) / events,
        seconds,
        loop,
      };
      results.push(result);
      log(
        `round ${round + 1}: ${events} events in ${seconds.toFixed(1)} s (${Math.round(events / seconds)}/s); µs per event: ` +
          `worker ${result.worker.toFixed(1)}, Postgres ${result.postgres.toFixed(1)}; worker loop delay ` +
          `p99 ${loop.p99Ms.toFixed(1)} ms, max ${loop.maxMs.toFixed(1)} ms`,
      );
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    log(
      `median of ${ROUNDS}: µs per event: worker ${median(results.map((r) => r.worker)).toFixed(1)}, ` +
        `Postgres ${median(results.map((r) => r.postgres)).toFixed(1)}; loop delay max ${median(results.map((r) => r.loop.maxMs)).toFixed(1)} ms`,
    );
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error(`cleanup failed: ${(error as Error).message}`));
    }
    closeHttpAgent();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
