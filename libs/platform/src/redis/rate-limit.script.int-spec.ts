import { setTimeout as sleep } from 'node:timers/promises';

import Redis from 'ioredis';

import { TestEnvironment } from '../../../../test/support/test-environment';
import { EXACT_LOG_MAX_LIMIT, rateLimitKey, takeRateLimit } from './rate-limit.script';

const DAY_US = 86_400 * 1_000_000;

describe(takeRateLimit.name, () => {
  const clients: Redis[] = [];
  let env: TestEnvironment;
  let seq = 0;
  // Under the file's own prefix, which the environment deletes at the end (some windows here are a day long).
  const baseKey = () => `${env.redisPrefix}:rate-limit:${++seq}`;
  const client = () => {
    const created = new Redis(env.config().REDIS_URL);
    clients.push(created);
    return created;
  };
  let redis: Redis;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    redis = client();
    await redis.ping();
  });

  afterAll(async () => {
    clients.forEach((created) => created.disconnect());
    await env.destroy();
  });

  async function takeMany(key: string, limit: number, windowUs: number, count: number, from: Redis[] = [redis]) {
    await Promise.all(from.map((each) => each.ping()));
    return Promise.all(Array.from({ length: count }, (_, index) => takeRateLimit(from[index % from.length], key, limit, windowUs, 1)));
  }

  describe('exact log (limit up to EXACT_LOG_MAX_LIMIT)', () => {
    it('lets exactly the limit through at the threshold, from several clients at once', async () => {
      const key = baseKey();
      const answers = await takeMany(key, EXACT_LOG_MAX_LIMIT, DAY_US, EXACT_LOG_MAX_LIMIT + 300, [client(), client(), client(), client()]);
      const allowed = answers.filter((answer) => answer.allowed);
      expect(allowed).toHaveLength(EXACT_LOG_MAX_LIMIT);
      expect(answers.every((answer) => answer.algorithm === 'log')).toBe(true);
      expect(new Set(allowed.map((answer) => answer.remaining)).size).toBe(EXACT_LOG_MAX_LIMIT);
      expect(await redis.type(key)).toBe('zset');
      expect(await redis.zcard(key)).toBe(EXACT_LOG_MAX_LIMIT);
    });
  });

  describe('GCRA (limit above EXACT_LOG_MAX_LIMIT)', () => {
    const limit = EXACT_LOG_MAX_LIMIT * 2;

    it('allows a burst of exactly the limit from idle, from several clients at once', async () => {
      const key = baseKey();
      // A day's window: one unit comes back every 43.2 s, so none does during the test.
      const answers = await takeMany(key, limit, DAY_US, limit + 500, [client(), client(), client(), client()]);
      expect(answers.filter((answer) => answer.allowed)).toHaveLength(limit);
      expect(answers.every((answer) => answer.algorithm === 'gcra')).toBe(true);
      const remaining = answers.filter((answer) => answer.allowed).map((answer) => answer.remaining);
      expect(new Set(remaining).size).toBe(limit);
      expect(Math.min(...remaining)).toBe(0);
      expect(Math.max(...remaining)).toBe(limit - 1);
      const refused = answers.filter((answer) => !answer.allowed);
      expect(refused.every((answer) => answer.remaining === 0 && answer.retryAfterUs > 0 && answer.retryAfterUs <= DAY_US / limit)).toBe(
        true,
      );
    });

    it('then lets one unit through per interval, at the time its Retry-After says', async () => {
      const key = baseKey();
      const windowUs = 1_200 * 1_000_000;
      const intervalUs = windowUs / limit; // 0.6 s
      const burst = await takeMany(key, limit, windowUs, limit);
      expect(burst.every((answer) => answer.allowed)).toBe(true);
      for (let round = 0; round < 3; round += 1) {
        const refused = await takeRateLimit(redis, key, limit, windowUs, 1);
        expect(refused.allowed).toBe(false);
        expect(refused.retryAfterUs).toBeGreaterThan(0);
        expect(refused.retryAfterUs).toBeLessThanOrEqual(intervalUs);
        expect(refused.resetUs).toBeGreaterThan(0);
        await sleep(Math.ceil(refused.retryAfterUs / 1_000) + 5);
        const passed = await takeRateLimit(redis, key, limit, windowUs, 1);
        expect(passed).toMatchObject({ allowed: true, remaining: 0, retryAfterUs: 0 });
        // One unit only: the next is an interval away, far longer than these two calls take.
        expect((await takeRateLimit(redis, key, limit, windowUs, 1)).allowed).toBe(false);
      }
    });

    it('never passes more than limit + elapsed × limit / window over a run from several clients', async () => {
      const key = baseKey();
      const windowUs = 1_000_000;
      const redisNow = async () => {
        const [seconds, micros] = await redis.time();
        return Number(seconds) * 1_000_000 + Number(micros);
      };
      const from = [client(), client(), client()];
      await Promise.all(from.map((each) => each.ping()));
      const start = await redisNow();
      let allowed = 0;
      for (let round = 0; round < 8; round += 1) {
        const answers = await takeMany(key, limit, windowUs, 600, from);
        allowed += answers.filter((answer) => answer.allowed).length;
      }
      const elapsed = (await redisNow()) - start;
      expect(allowed).toBeGreaterThanOrEqual(limit);
      expect(allowed).toBeLessThanOrEqual(limit + Math.floor((elapsed * limit) / windowUs));
    });

    it('keeps one small string per key whatever the number of checks', async () => {
      const key = baseKey();
      const big = 1_000_000;
      for (let batch = 0; batch < 10; batch += 1) {
        const answers = await takeMany(key, big, DAY_US, 1_000);
        expect(answers.every((answer) => answer.allowed)).toBe(true);
      }
      const stored = rateLimitKey(key, 'gcra');
      expect(await redis.type(stored)).toBe('string');
      expect(await redis.exists(key)).toBe(0);
      expect(await redis.memory('USAGE', stored)).toBeLessThan(200);
      expect(await redis.pttl(stored)).toBeGreaterThan(0);
      // 10,000 units taken of a million a day: the state still counts them all (one comes back every 86.4 ms).
      const next = await takeRateLimit(redis, key, big, DAY_US, 1);
      expect(next.remaining).toBeLessThan(big - 9_000);
      expect(next.remaining).toBeGreaterThanOrEqual(big - 10_001);
    });

    it('reads no sorted set an older version left under the key (no WRONGTYPE at upgrade)', async () => {
      const key = baseKey();
      await redis.zadd(key, 1, 'left-by-the-log');
      const answer = await takeRateLimit(redis, key, limit, DAY_US, 1);
      expect(answer).toMatchObject({ allowed: true, algorithm: 'gcra', remaining: limit - 1 });
      expect(await redis.type(key)).toBe('zset');
      await redis.del(key);
    });

    it('refuses a cost above the limit for a full window without taking any of it', async () => {
      const key = baseKey();
      const answer = await takeRateLimit(redis, key, limit, DAY_US, limit + 1);
      expect(answer).toMatchObject({ allowed: false, remaining: limit, retryAfterUs: DAY_US });
      expect(await redis.exists(rateLimitKey(key, 'gcra'))).toBe(0);
    });

    it('says when the next unit is back on an allowed check, and now on an idle one', async () => {
      const key = baseKey();
      const first = await takeRateLimit(redis, key, limit, DAY_US, 1);
      const [seconds, micros] = await redis.time();
      const now = Number(seconds) * 1_000_000 + Number(micros);
      // After one unit from idle the bucket is full again one interval later.
      expect(first.resetUs - now).toBeLessThanOrEqual(DAY_US / limit);
      expect(first.resetUs - now).toBeGreaterThan(DAY_US / limit - 5_000_000);
      const idle = await takeRateLimit(redis, baseKey(), limit, DAY_US, 0);
      expect(idle).toMatchObject({ allowed: true, remaining: limit });
      expect(Math.abs(idle.resetUs - now)).toBeLessThan(5_000_000);
    });
  });
});
