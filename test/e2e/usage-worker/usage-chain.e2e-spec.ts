import { setTimeout as sleep } from 'node:timers/promises';

import { USAGE_QUEUE } from '@latchkey/contracts';
import { generateApiKey } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { metricSum } from '../../support/metrics-text';
import { issueKey } from '../auth-check/auth-check-helpers';

const HOUR_MS = 3_600_000;
/** No progress for this long while checks are still uncounted: the chain stalled, fail loudly. */
const STALL_MS = 10_000;

/**
 * The whole chain in one process (TARGET=all): POST /v1/verify → auth-check's usage
 * buffer → BullMQ → usage-worker → Postgres → the read endpoints of key-issuer.
 * N checks of mixed outcomes come out as exactly N counted, per key and per code.
 */
describe('usage chain: checks through POST /v1/verify are counted exactly once', () => {
  let sut: TestApp;
  let owner: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { USAGE_FLUSH_MS: '50', USAGE_BATCH_SIZE: '25' } });
    owner = await signUp(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  /** A metric summed over its labels, as a scrape of /metrics shows it. */
  async function metric(name: string): Promise<number> {
    return metricSum((await sut.get('/metrics')).text, name);
  }

  /** The usage queue's jobs in each state, from the bullmq_queue_jobs gauge of /metrics. */
  async function usageJobs(): Promise<Record<string, number>> {
    const exposition = (await sut.get('/metrics')).text;
    return Object.fromEntries(
      ['waiting', 'active', 'delayed', 'failed'].map((state) => [
        state,
        metricSum(exposition, 'bullmq_queue_jobs', { queue: USAGE_QUEUE, state }),
      ]),
    );
  }

  async function codeOf(body: Record<string, unknown>): Promise<string> {
    const response = await sut.post('/v1/verify', { body: { method: 'GET', path: '/v1/chain', ...body } });
    if (response.status !== 200) throw new Error(`verify answered ${response.status}: ${response.text}`);
    return response.body.data.code as string;
  }

  /** Runs the checks with bounded concurrency and tallies the codes auth-check answered. */
  async function runChecks(checks: Record<string, unknown>[], concurrency = 16): Promise<Record<string, number>> {
    const answered: Record<string, number> = {};
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < checks.length) {
          const code = await codeOf(checks[next++]);
          answered[code] = (answered[code] ?? 0) + 1;
        }
      }),
    );
    return answered;
  }

  async function orgCodes(): Promise<{ total: number; codes: Record<string, number> }> {
    const response = await sut.get('/v1/usage', {
      token: owner.token,
      query: { group_by: 'code', from: new Date(Date.now() - HOUR_MS).toISOString(), to: new Date(Date.now() + HOUR_MS).toISOString() },
    });
    expect(response.status).toBe(200);
    const codes: Record<string, number> = {};
    for (const group of response.body.data.groups as { value: string; total: number }[]) codes[group.value] = group.total;
    return { total: response.body.data.total as number, codes };
  }

  async function keyCodes(keyId: string, granularity: 'minute' | 'hour' | 'day'): Promise<Record<string, number>> {
    const span = granularity === 'day' ? 48 * HOUR_MS : HOUR_MS;
    const response = await sut.get(`/v1/api-keys/${keyId}/usage`, {
      token: owner.token,
      query: { granularity, from: new Date(Date.now() - span).toISOString(), to: new Date(Date.now() + span).toISOString() },
    });
    expect(response.status).toBe(200);
    const codes: Record<string, number> = {};
    for (const bucket of response.body.data.buckets as { codes: Record<string, number> }[]) {
      for (const [code, n] of Object.entries(bucket.codes)) if (n > 0) codes[code] = (codes[code] ?? 0) + n;
    }
    return codes;
  }

  /** Polls until `counted()` reaches `expected`; throws with the queue's state if it stops moving. */
  async function waitUntilCounted(counted: () => Promise<number>, expected: number): Promise<void> {
    let last = -1;
    let lastMove = Date.now();
    for (;;) {
      const now = await counted();
      if (now === expected) return;
      if (now > expected) throw new Error(`counted ${now} checks, more than the ${expected} made: double counting`);
      if (now !== last) {
        last = now;
        lastMove = Date.now();
      } else if (Date.now() - lastMove > STALL_MS) {
        const jobs = await usageJobs();
        throw new Error(`usage chain stalled at ${now}/${expected} counted for ${STALL_MS} ms; usage queue: ${JSON.stringify(jobs)}`);
      }
      await sleep(50);
    }
  }

  it('counts N mixed checks exactly: per code, per key at every granularity, in request logs, with last_used_at', async () => {
    const plain = await issueKey(sut, owner, { name: 'chain plain', permissions: ['payments:read'] });
    const limited = await issueKey(sut, owner, { name: 'chain limited', rate_limit: { limit: 9, window_seconds: 3600 } });
    const checks: Record<string, unknown>[] = [
      ...Array.from({ length: 120 }, () => ({ key: plain.secret, permissions: ['payments:read'] })),
      ...Array.from({ length: 23 }, () => ({ key: plain.secret, permissions: ['reports:write'] })),
      ...Array.from({ length: 40 }, () => ({ key: limited.secret })),
      ...Array.from({ length: 17 }, () => ({ key: generateApiKey('test') })),
      ...Array.from({ length: 5 }, () => ({ key: 'sk_test_not-a-key' })),
    ];
    // Interleaved, so batches mix keys and codes.
    for (let i = checks.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [checks[i], checks[j]] = [checks[j], checks[i]];
    }
    const eventsBefore = await metric('usage_events_counted_total');

    const answered = await runChecks(checks);
    expect(answered).toEqual({ VALID: 129, INSUFFICIENT_PERMISSIONS: 23, RATE_LIMITED: 31, NOT_FOUND: 17, MALFORMED: 5 });

    // Every check reaches the worker, including those that belong to no tenant (unknown and malformed keys).
    await waitUntilCounted(async () => (await metric('usage_events_counted_total')) - eventsBefore, checks.length);
    // The tenant's view: the checks of its keys, per code.
    await waitUntilCounted(async () => (await orgCodes()).total, 120 + 23 + 40);
    expect((await orgCodes()).codes).toEqual({ VALID: 129, INSUFFICIENT_PERMISSIONS: 23, RATE_LIMITED: 31 });

    for (const granularity of ['minute', 'hour', 'day'] as const) {
      expect(await keyCodes(plain.id, granularity)).toEqual({ VALID: 120, INSUFFICIENT_PERMISSIONS: 23 });
      expect(await keyCodes(limited.id, granularity)).toEqual({ VALID: 9, RATE_LIMITED: 31 });
    }

    // Request logs: one per check of the tenant's keys, filterable by key and code.
    const logsOf = async (query: Record<string, string>): Promise<number> => {
      let rows = 0;
      let cursor: string | undefined;
      do {
        const response = await sut.get('/v1/logs', {
          token: owner.token,
          query: { limit: '100', ...query, ...(cursor ? { cursor } : {}) },
        });
        expect(response.status).toBe(200);
        for (const row of response.body.data as { path: string; method: string }[]) {
          expect(row).toMatchObject({ method: 'GET', path: '/v1/chain' });
        }
        rows += (response.body.data as unknown[]).length;
        cursor = response.body.next_cursor ?? undefined;
      } while (cursor);
      return rows;
    };
    expect(await logsOf({ key_id: plain.id })).toBe(143);
    expect(await logsOf({ key_id: plain.id, code: 'INSUFFICIENT_PERMISSIONS' })).toBe(23);
    expect(await logsOf({ key_id: limited.id, code: 'RATE_LIMITED' })).toBe(31);

    // last_used_at is written by the worker, within seconds of the checks.
    for (const key of [plain, limited]) {
      const response = await sut.get(`/v1/api-keys/${key.id}`, { token: owner.token });
      expect(response.status).toBe(200);
      const lastUsed = Date.parse(response.body.data.last_used_at as string);
      expect(Date.now() - lastUsed).toBeLessThan(60_000);
    }

    // Nothing left behind: no failed or waiting batch.
    const exposition = (await sut.get('/metrics')).text;
    for (const state of ['waiting', 'active', 'delayed', 'failed']) {
      expect(exposition).toMatch(new RegExp(`^bullmq_queue_jobs\\{queue="${USAGE_QUEUE}",state="${state}"\\} \\d+$`, 'm'));
    }
    const jobs = await usageJobs();
    expect(jobs).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
  });
});
