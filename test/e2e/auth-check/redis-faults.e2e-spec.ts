import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';

import { bullPrefix, USAGE_QUEUE, UsageBatchJobData } from '@latchkey/contracts';
import { generateApiKey } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { OwnRedisServer } from '../../support/own-redis-server';
import { IssuedKey, issueKey, sentUsageEvents, waitFor } from './auth-check-helpers';

/** Longest a check may take while Redis is frozen or gone: the lookup and limit deadlines, with room for a busy machine. */
const CHECK_DEADLINE_MS = 2_000;
/** Back to normal after Redis returns, without a restart (docs/performance.md#targets). */
const RECOVERY_MS = 5_000;

interface Outcome {
  status: number;
  valid: boolean | undefined;
  code: string | undefined;
  degraded: boolean | undefined;
  ms: number;
}

/**
 * Redis outages under load, against a redis-server this file owns (never the shared
 * one): frozen with SIGSTOP, and killed and started again on the same port.
 * Cached keys keep answering (degraded where a limit applies), unknown keys fail
 * closed, nothing crashes or hangs, the service heals by itself, and the usage
 * events of checks made while Redis was away reach the usage queue once it is back.
 */
describe('auth-check when its Redis freezes or restarts', () => {
  let redis: OwnRedisServer;
  let sut: TestApp;
  let owner: UserSession;
  let plain: IssuedKey;
  let limited: IssuedKey;

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    // The usage worker stays out: the events of the outage must wait on the queue to be counted.
    sut = await TestApp.start({ config: { REDIS_URL: redis.url, TARGET: 'org-api,key-issuer,auth-check' } });
    owner = await signUp(sut);
    plain = await issueKey(sut, owner);
    limited = await issueKey(sut, owner, {
      rate_limit: { limit: 1_000_000, window_seconds: 60 },
      quota: { limit: 1_000_000, period: 'month' },
    });
  }, 60_000);

  afterAll(async () => {
    // Close while Redis answers, so nothing waits on a reconnect.
    redis?.thaw();
    await redis?.restart().catch(() => undefined);
    await sut?.close();
    await redis?.kill();
  }, 60_000);

  async function verify(key: string, path = '/faults'): Promise<Outcome> {
    const started = Date.now();
    const response = await sut.post('/v1/verify', { body: { key, method: 'GET', path } });
    const data = response.body?.data;
    return { status: response.status, valid: data?.valid, code: data?.code, degraded: data?.degraded, ms: Date.now() - started };
  }

  /** Normal service: both keys pass, the limited one counted exactly again (not degraded), an unknown key is NOT_FOUND. */
  async function healthy(): Promise<boolean> {
    const [a, b, c] = await Promise.all([verify(plain.secret), verify(limited.secret), verify(generateApiKey('test'))]);
    return a.code === 'VALID' && b.code === 'VALID' && b.degraded === undefined && c.status === 200 && c.code === 'NOT_FOUND';
  }

  /** Runs `rounds` of checks of the cached keys and of fresh unknown keys, `parallel` at a time. */
  async function checkUnderOutage(rounds: number, parallel: number, path?: (n: number) => string) {
    const outcomes: { kind: 'plain' | 'limited' | 'unknown'; outcome: Outcome }[] = [];
    let n = 0;
    for (let round = 0; round < rounds; round += 1) {
      const batch = Array.from({ length: parallel }, async () => {
        const kinds = ['plain', 'limited', 'unknown'] as const;
        const kind = kinds[n % 3];
        const secret = kind === 'plain' ? plain.secret : kind === 'limited' ? limited.secret : generateApiKey('test');
        const at = n++;
        outcomes.push({ kind, outcome: await verify(secret, path?.(at)) });
      });
      await Promise.all(batch);
    }
    return outcomes;
  }

  function expectOutageVerdicts(outcomes: { kind: string; outcome: Outcome }[]): void {
    for (const { kind, outcome } of outcomes) {
      expect({ kind, ms: outcome.ms < CHECK_DEADLINE_MS }).toEqual({ kind, ms: true });
      if (kind === 'unknown') {
        // Fail closed: an unknown key never passes, whether the lookup answers (NOT_FOUND) or cannot (503).
        expect(outcome.valid).not.toBe(true);
        expect([200, 503]).toContain(outcome.status);
      } else {
        expect({ kind, status: outcome.status, code: outcome.code }).toEqual({ kind, status: 200, code: 'VALID' });
      }
    }
  }

  it('is healthy before the faults', async () => {
    expect(await healthy()).toBe(true);
  });

  it('Redis frozen (SIGSTOP): cached keys pass (degraded where limits apply), unknown keys fail closed, nothing hangs; healthy again after SIGCONT', async () => {
    // Warm: both keys cached.
    expect((await verify(plain.secret)).code).toBe('VALID');
    expect((await verify(limited.secret)).code).toBe('VALID');

    redis.freeze();
    let outcomes: Awaited<ReturnType<typeof checkUnderOutage>>;
    try {
      outcomes = await checkUnderOutage(6, 9);
      // Still answering after a few seconds frozen (the TTL of nothing here is the point: this is the same cache).
      await sleep(1_000);
      outcomes.push(...(await checkUnderOutage(2, 9)));
      expect((await sut.get('/health/live')).status).toBe(200);
    } finally {
      redis.thaw();
    }
    expectOutageVerdicts(outcomes);
    const limitedOutcomes = outcomes.filter(({ kind }) => kind === 'limited').map(({ outcome }) => outcome);
    expect(limitedOutcomes.some((outcome) => outcome.degraded === true)).toBe(true);
    expect(outcomes.filter(({ kind }) => kind === 'plain').every(({ outcome }) => outcome.degraded === undefined)).toBe(true);

    const healed = await waitFor(healthy, Boolean, RECOVERY_MS, 100);
    expect(healed).toMatchObject({ value: true });
  }, 60_000);

  it('Redis restarted under load: the same answers while it is gone, healed within 5 s, and the usage events of the outage arrive', async () => {
    expect(await healthy()).toBe(true);
    const marker = `/outage-${Date.now()}`;

    // Load that runs through the whole restart.
    let stop = false;
    const background: Outcome[] = [];
    const load = (async () => {
      while (!stop) {
        background.push(...(await Promise.all([verify(plain.secret), verify(limited.secret)])));
        await sleep(5);
      }
    })();

    await redis.kill();
    // Checks while Redis is gone, each with a path the usage queue can be searched for.
    const outcomes = await checkUnderOutage(5, 9, (n) => `${marker}/${n}`);
    await sleep(500);
    outcomes.push(...(await checkUnderOutage(2, 9, (n) => `${marker}/late-${n}`)));
    expect((await sut.get('/health/live')).status).toBe(200);
    const duringOutage = outcomes.length;

    await redis.restart();
    const restartedAt = Date.now();
    const healed = await waitFor(healthy, Boolean, RECOVERY_MS, 100);
    stop = true;
    await load;
    expect(healed).toMatchObject({ value: true });
    expect(Date.now() - restartedAt).toBeLessThan(RECOVERY_MS + CHECK_DEADLINE_MS);

    expectOutageVerdicts(outcomes);
    expect(background.length).toBeGreaterThan(0);
    for (const outcome of background) {
      expect({ status: outcome.status, code: outcome.code, slow: outcome.ms >= CHECK_DEADLINE_MS }).toEqual({
        status: 200,
        code: 'VALID',
        slow: false,
      });
    }

    // Every check made while Redis was gone emitted one event; all of them reach the (new, empty) server's queue, once.
    const usage = new Queue<UsageBatchJobData>(USAGE_QUEUE, {
      prefix: bullPrefix(sut.config.REDIS_PREFIX),
      connection: { url: redis.url },
    });
    try {
      const arrived = await waitFor(
        async () => (await sentUsageEvents(usage)).filter((event) => event.path?.startsWith(`${marker}/`)),
        (events) => events.length >= duringOutage,
        10_000,
        200,
      );
      const paths = arrived.value.map((event) => event.path);
      expect(new Set(paths).size).toBe(paths.length);
      expect(paths.length).toBe(duringOutage);
    } finally {
      await usage.close();
    }
  }, 90_000);
});
