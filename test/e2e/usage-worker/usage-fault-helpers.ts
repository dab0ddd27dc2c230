import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';
import { Client } from 'pg';

import { bullPrefix, USAGE_QUEUE, usageBatchJob, UsageBatchJobData, usageBatchOf, UsageEvent, VerifyCode } from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { TestEnvironment } from '../../support/test-environment';

/**
 * Shared by the usage fault tests (SIGKILL, Postgres cut, Redis restart): a tenant
 * with keys, batches with a known tally per code, and the database's view of what
 * was counted. Each check must end up counted exactly once, whatever the fault.
 */
export const FAULT_CODES: readonly VerifyCode[] = ['VALID', 'VALID', 'VALID', 'RATE_LIMITED', 'INSUFFICIENT_PERMISSIONS', 'QUOTA_EXCEEDED'];

export interface Tenant {
  env: TestEnvironment;
  orgId: string;
  keyIds: string[];
}

/** A private database and Redis prefix with one organisation and a few keys (made through the API, no worker running). */
export async function createTenant(keys = 3): Promise<Tenant> {
  const env = await TestEnvironment.create();
  const admin = await TestApp.start({ env, config: { TARGET: 'org-api,key-issuer' } });
  try {
    const owner = await signUp(admin);
    const keyIds: string[] = [];
    for (let i = 0; i < keys; i++) {
      const response = await admin.post('/v1/api-keys', { token: owner.token, body: { name: `fault ${i}`, environment: 'test' } });
      if (response.status !== 201) throw new Error(`create key failed: ${response.status} ${response.text}`);
      keyIds.push(response.body.data.id as string);
    }
    return { env, orgId: owner.orgId, keyIds };
  } finally {
    await admin.close();
  }
}

/** The raw environment of a Latchkey process on this tenant (for a child process or an in-process app). */
export function rawEnv(tenant: Tenant, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    DATABASE_URL: tenant.env.databaseUrl,
    REDIS_PREFIX: tenant.env.redisPrefix,
    ...overrides,
  };
}

export interface Batches {
  jobs: UsageBatchJobData[];
  expected: Record<string, number>;
  events: number;
}

/** `count` batches of `size` events over the tenant's keys, with the exact tally per code. */
export function makeBatches(tenant: Tenant, count: number, size: number): Batches {
  const expected: Record<string, number> = {};
  const jobs: UsageBatchJobData[] = [];
  let n = 0;
  for (let b = 0; b < count; b++) {
    const events: UsageEvent[] = [];
    for (let i = 0; i < size; i++, n++) {
      const code = FAULT_CODES[n % FAULT_CODES.length];
      expected[code] = (expected[code] ?? 0) + 1;
      events.push({
        key_id: tenant.keyIds[n % tenant.keyIds.length],
        org_id: tenant.orgId,
        environment: 'test',
        code,
        ip: `198.51.100.${n % 200}`,
        method: 'POST',
        path: '/v1/charges',
        at: new Date().toISOString(),
        latency_us: 300,
      });
    }
    jobs.push(usageBatchOf(`bat_${randomUUID()}`, events));
  }
  return { jobs, expected, events: n };
}

export function usageQueue(tenant: Tenant, redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'): Queue<UsageBatchJobData> {
  const queue = new Queue<UsageBatchJobData>(USAGE_QUEUE, {
    prefix: bullPrefix(tenant.env.redisPrefix),
    connection: { url: redisUrl, maxRetriesPerRequest: 1, connectTimeout: 1_000, retryStrategy: () => 200 },
  });
  queue.on('error', () => undefined);
  return queue;
}

/** Enqueues every batch (job id = batch id, as auth-check does); a failed add is retried until Redis takes it. */
export async function enqueueAll(queue: Queue<UsageBatchJobData>, jobs: UsageBatchJobData[], perCall = 50): Promise<void> {
  for (let i = 0; i < jobs.length; i += perCall) {
    const slice = jobs.slice(i, i + perCall);
    for (;;) {
      try {
        await queue.addBulk(slice.map(usageBatchJob));
        break;
      } catch {
        await sleep(200);
      }
    }
  }
}

export interface Counted {
  events: number;
  batches: number;
  logs: number;
  codes: Record<string, number>;
}

/**
 * What the database holds (read straight from Postgres, not through the worker).
 * A read of request_logs can lose a deadlock against the worker's partition DDL
 * (create … partition of): it is retried.
 */
export async function counted(tenant: Tenant): Promise<Counted> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readCounted(tenant);
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error;
    }
  }
}

async function readCounted(tenant: Tenant): Promise<Counted> {
  const client = new Client({ connectionString: tenant.env.databaseUrl });
  await client.connect();
  try {
    const codes: Record<string, number> = {};
    const rows = await client.query<{ code: string; n: string }>(
      `select code, sum(count)::bigint as n from usage_counters where granularity = 'day' and org_id = $1 group by code`,
      [tenant.orgId],
    );
    for (const row of rows.rows) codes[row.code] = Number(row.n);
    const [batches] = (await client.query<{ n: string }>('select count(*)::bigint as n from usage_processed_batches')).rows;
    const [logs] = (await client.query<{ n: string }>('select count(*)::bigint as n from request_logs where org_id = $1', [tenant.orgId]))
      .rows;
    const events = Object.values(codes).reduce((sum, n) => sum + n, 0);
    return { events, batches: Number(batches.n), logs: Number(logs.n), codes };
  } finally {
    await client.end();
  }
}

/** Polls until `expectedEvents` are counted; fails loudly on double counting or when nothing moves for `stallMs`. */
export async function waitUntilDrained(
  tenant: Tenant,
  expectedEvents: number,
  stallMs: number,
  describeQueue?: () => Promise<unknown>,
): Promise<Counted> {
  let last = -1;
  let lastMove = Date.now();
  for (;;) {
    const now = await counted(tenant);
    if (now.events > expectedEvents) throw new Error(`counted ${now.events} events, more than the ${expectedEvents} enqueued`);
    if (now.events === expectedEvents) return now;
    if (now.events !== last) {
      last = now.events;
      lastMove = Date.now();
    } else if (Date.now() - lastMove > stallMs) {
      const queue = describeQueue ? JSON.stringify(await describeQueue()) : '';
      throw new Error(`usage counting stalled at ${now.events}/${expectedEvents} for ${stallMs} ms ${queue}`);
    }
    await sleep(100);
  }
}
