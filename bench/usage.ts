/**
 * npm run bench:usage — usage metering under sustained load
 * (docs/performance.md#targets).
 *
 * Two Latchkey processes on a private database and Redis prefix: the API side
 * (TARGET=org-api,key-issuer,auth-check, listening) and the worker
 * (TARGET=usage-worker). Checks go through POST /v1/verify over HTTP with bounded
 * concurrency for BENCH_USAGE_SECONDS; then the bench waits for the usage queue to
 * drain and prints:
 *   checks/s, counted/s, counted ÷ checked (must be exactly 1),
 *   p99 lag from check to count (worker's usage_processing_lag_seconds histogram,
 *   so to a bucket bound; and the drain time of the last checks),
 *   Postgres statements per check (pg_stat_statements when the private database has
 *   it; else transactions per check from pg_stat_database.xact_commit deltas, less the
 *   bench's own polling queries, plus the ledger's own statements, at most 4 per batch,
 *   counted from usage_processed_batches).
 *
 * Knobs: BENCH_USAGE_SECONDS (15), BENCH_USAGE_CONCURRENCY (32), BENCH_USAGE_KEEP_DB=1.
 * Exits 1 when counted ÷ checked is not exactly 1.
 */
import 'reflect-metadata';

import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';
import { Client } from 'pg';

import { bullPrefix, USAGE_QUEUE } from '@latchkey/contracts';
import { redisConnectionOptions, RedisPurpose } from '@latchkey/platform';

import { ChildProcessApp } from '../test/support/child-process-app';
import { SmtpSink } from '../test/support/smtp-sink';
import { databaseUrl } from '../test/support/test-databases';
import { TestEnvironment } from '../test/support/test-environment';

const SECONDS = Number(process.env.BENCH_USAGE_SECONDS ?? 15);
const CONCURRENCY = Number(process.env.BENCH_USAGE_CONCURRENCY ?? 32);
const STALL_MS = 30_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** What the bench reads of Latchkey's answers (the `data` of the envelope). */
interface Reply {
  status: number;
  body: { data: { code: string; token: string; org: { id: string }; id: string; secret: string } } | undefined;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

/**
 * Statements the bench itself runs on the private database (each its own transaction):
 * left out of "transactions per check", which is about what Latchkey's processes do.
 */
let benchStatements = 0;

/** Production mode requires INTERNAL_TOKEN; POST /v1/verify then needs it as x-internal-token. */
const BENCH_INTERNAL_TOKEN = 'bench-internal-token-0123456789';

function http(port: number, method: string, path: string, body?: unknown, token?: string): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          'x-internal-token': BENCH_INTERNAL_TOKEN,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: Reply['body'];
          try {
            parsed = text ? (JSON.parse(text) as Reply['body']) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

async function pgStats(databaseName: string): Promise<{ commits: number; statements: number | null }> {
  const admin = new Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    const [row] = (
      await admin.query<{ c: string }>('select xact_commit::bigint as c from pg_stat_database where datname = $1', [databaseName])
    ).rows;
    return { commits: Number(row?.c ?? 0), statements: null };
  } finally {
    await admin.end();
  }
}

/** Total calls in pg_stat_statements for the private database, when the extension is there. */
async function statementCalls(databaseName: string): Promise<number | null> {
  const client = new Client({ connectionString: databaseUrl(databaseName) });
  await client.connect();
  try {
    const ext = await client.query(`select 1 from pg_extension where extname = 'pg_stat_statements'`);
    benchStatements += 1;
    if (ext.rowCount === 0) return null;
    const [row] = (
      await client.query<{ n: string }>(
        `select coalesce(sum(calls), 0)::bigint as n from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1`,
        [databaseName],
      )
    ).rows;
    benchStatements += 1;
    return Number(row.n);
  } catch {
    return null;
  } finally {
    await client.end();
  }
}

async function countedChecks(databaseName: string, orgId: string): Promise<{ events: number; batches: number }> {
  const client = new Client({ connectionString: databaseUrl(databaseName) });
  await client.connect();
  try {
    const [events] = (
      await client.query<{ n: string }>(
        `select coalesce(sum(count), 0)::bigint as n from usage_counters where granularity = 'day' and org_id = $1`,
        [orgId],
      )
    ).rows;
    const [batches] = (await client.query<{ n: string }>('select count(*)::bigint as n from usage_processed_batches')).rows;
    benchStatements += 2;
    return { events: Number(events.n), batches: Number(batches.n) };
  } finally {
    await client.end();
  }
}

/** The p99 of a Prometheus histogram as the upper bound of the bucket that holds it. */
function histogramP99(metricsText: string, name: string): { p99: string; count: number } {
  const buckets: { le: number; count: number }[] = [];
  for (const match of metricsText.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))) {
    buckets.push({ le: match[1] === '+Inf' ? Infinity : Number(match[1]), count: Number(match[2]) });
  }
  const total = buckets.at(-1)?.count ?? 0;
  const bucket = buckets.find((b) => b.count >= total * 0.99);
  return { p99: bucket ? (bucket.le === Infinity ? '> largest bucket' : `≤ ${bucket.le} s`) : 'n/a', count: total };
}

async function main(): Promise<void> {
  const env = await TestEnvironment.create();
  // Production mode refuses to start without SMTP; the signup's verification mail lands here.
  const smtp = await SmtpSink.start();
  const base: Record<string, string> = {
    NODE_ENV: 'production',
    SMTP_URL: smtp.url,
    LOG_LEVEL: 'warn',
    REDIS_URL,
    DATABASE_URL: env.databaseUrl,
    REDIS_PREFIX: env.redisPrefix,
    KEY_HASH_SECRET: 'bench-key-hash-secret-0123456789abcdef',
    ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
    PLATFORM_ADMIN_TOKEN: 'bench-platform-admin-token-0123456789',
    INTERNAL_TOKEN: BENCH_INTERNAL_TOKEN,
  };
  let api: ChildProcessApp | undefined;
  let worker: ChildProcessApp | undefined;
  const queue = new Queue(USAGE_QUEUE, {
    prefix: bullPrefix(env.redisPrefix),
    connection: redisConnectionOptions(REDIS_URL, RedisPurpose.QueueProducer),
  });
  try {
    api = await ChildProcessApp.start({ ...base, TARGET: 'org-api,key-issuer,auth-check' }, 60_000, { listen: true });
    worker = await ChildProcessApp.start({ ...base, TARGET: 'usage-worker' }, 60_000, { listen: true });

    const signup = await http(api.port, 'POST', '/v1/auth/signup', {
      email: `bench-${Date.now()}@example.com`,
      password: 'correct horse battery staple',
      name: 'Bench',
      org_name: 'Bench Org',
    });
    if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${signup.text}`);
    const token = signup.body!.data.token;
    const orgId = signup.body!.data.org.id;
    const issue = async (body: Record<string, unknown>) => {
      const response = await http(api!.port, 'POST', '/v1/api-keys', { name: 'bench', environment: 'test', ...body }, token);
      if (response.status !== 201) throw new Error(`issue key: ${response.status} ${response.text}`);
      return response.body!.data;
    };
    const keys = await Promise.all([
      issue({ permissions: ['payments:read'] }),
      issue({ permissions: ['payments:read'] }),
      issue({ permissions: ['payments:read'] }),
      issue({ rate_limit: { limit: 200, window_seconds: 60 } }),
    ]);
    // 80 % VALID, ~15 % INSUFFICIENT_PERMISSIONS, 5 % on a rate-limited key (VALID then RATE_LIMITED): all attributable to a key.
    const bodyFor = (i: number) => {
      const slot = i % 20;
      if (slot === 0) return { key: keys[3].secret, method: 'GET', path: '/bench' };
      if (slot <= 3) return { key: keys[i % 3].secret, permissions: ['reports:write'], method: 'GET', path: '/bench' };
      return { key: keys[i % 3].secret, permissions: ['payments:read'], method: 'GET', path: '/bench' };
    };
    // Warm the key cache (these checks are counted too).
    let checked = 0;
    const codes: Record<string, number> = {};
    for (let i = 0; i < 8; i++) {
      const response = await http(api.port, 'POST', '/v1/verify', bodyFor(i));
      if (response.status !== 200) throw new Error(`verify: ${response.status}`);
      checked++;
      const code = response.body!.data.code;
      codes[code] = (codes[code] ?? 0) + 1;
    }

    const before = await pgStats(env.databaseName);
    const benchStatementsBefore = benchStatements;
    const statementsBefore = await statementCalls(env.databaseName);
    const batchesBefore = (await countedChecks(env.databaseName, orgId)).batches;
    const started = Date.now();
    const endAt = started + SECONDS * 1000;
    let failures = 0;
    let next = 8;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < endAt) {
          const response = await http(api!.port, 'POST', '/v1/verify', bodyFor(next++)).catch((): Reply => ({
            status: 0,
            body: undefined,
            text: '',
          }));
          if (response.status !== 200) {
            failures++;
            continue;
          }
          checked++;
          const code = response.body!.data.code;
          codes[code] = (codes[code] ?? 0) + 1;
        }
      }),
    );
    const loadEnded = Date.now();
    const loadSeconds = (loadEnded - started) / 1000;

    // Drain: every check counted (fail loudly on a stall).
    let counted = 0;
    let lastMove = Date.now();
    for (;;) {
      const now = (await countedChecks(env.databaseName, orgId)).events;
      if (now !== counted) {
        counted = now;
        lastMove = Date.now();
      }
      if (counted >= checked) break;
      if (Date.now() - lastMove > STALL_MS) {
        throw new Error(`stalled at ${counted}/${checked}; queue ${JSON.stringify(await queue.getJobCounts())}`);
      }
      await sleep(20);
    }
    const drained = Date.now();
    // Postgres publishes its statistics with a delay (about 1 s).
    await sleep(1_500);
    const after = await pgStats(env.databaseName);
    const ownStatements = benchStatements - benchStatementsBefore;
    const statementsAfter = await statementCalls(env.databaseName);
    const final = await countedChecks(env.databaseName, orgId);
    const metrics = await http(worker.port, 'GET', '/metrics');
    const lag = histogramP99(metrics.text, 'usage_processing_lag_seconds');
    const batches = final.batches - batchesBefore;
    const loadChecks = checked - 8;

    const line = (label: string, value: string) => console.log(`${label.padEnd(34)} ${value}`);
    console.log(`\nbench:usage — ${SECONDS} s, concurrency ${CONCURRENCY}, node ${process.version}`);
    line('checks', `${checked} (${JSON.stringify(codes)}), failed requests ${failures}`);
    line('checks/s', (loadChecks / loadSeconds).toFixed(0));
    line('counted/s (load start → drained)', (final.events / ((drained - started) / 1000)).toFixed(0));
    line('counted ÷ checked', `${final.events} / ${checked} = ${(final.events / checked).toFixed(6)}`);
    line('drain after the load stopped', `${drained - loadEnded} ms`);
    line('p99 lag check → count (histogram)', `${lag.p99} over ${lag.count} checks`);
    line('usage batches', `${batches} (${(loadChecks / Math.max(batches, 1)).toFixed(1)} checks per batch)`);
    line('ledger statements per check', `≤ ${((4 * batches) / loadChecks).toFixed(5)} (at most 4 per batch, one transaction)`);
    line(
      'transactions per check',
      `${((after.commits - before.commits - ownStatements) / loadChecks).toFixed(5)} ` +
        `(pg_stat_database.xact_commit, all Latchkey processes; the bench's own ${ownStatements} queries left out)`,
    );
    if (statementsBefore !== null && statementsAfter !== null) {
      line('statements per check', `${((statementsAfter - statementsBefore) / loadChecks).toFixed(5)} (pg_stat_statements, all processes)`);
    } else {
      line('statements per check', 'pg_stat_statements not enabled: see transactions per check');
    }
    if (final.events !== checked) {
      console.error(`FAIL: counted ${final.events} of ${checked} checks`);
      process.exitCode = 1;
    }
  } finally {
    await queue.close();
    await worker?.stop();
    await api?.stop();
    agent.destroy();
    if (process.env.BENCH_USAGE_KEEP_DB !== '1') await env.destroy();
    await smtp.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
