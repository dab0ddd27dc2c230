import { setTimeout as sleep } from 'node:timers/promises';

import { Logger } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { RedisService } from '@latchkey/platform';

import { deadRedisUrl, OwnRedisServer } from '../../../../test/support/own-redis-server';
import { TestEnvironment } from '../../../../test/support/test-environment';
import { RateLimiterService } from './rate-limiter.service';

describe(RateLimiterService.name, () => {
  let env: TestEnvironment;
  const redisServices: RedisService[] = [];
  let keySeq = 0;
  const newKeyId = () => `key_rl_${++keySeq}_${Date.now()}`;

  function build(overrides: Record<string, string> = {}): { sut: RateLimiterService; redis: RedisService } {
    const config = new AppConfig(env.config(overrides));
    const redis = new RedisService(config);
    redisServices.push(redis);
    return { sut: new RateLimiterService(config, redis), redis };
  }

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    env = await TestEnvironment.create();
  });

  afterAll(async () => {
    redisServices.forEach((redis) => redis.client.disconnect());
    await env.destroy();
  });

  it('lets exactly the limit through out of 40 concurrent checks', async () => {
    const { sut, redis } = build();
    // Connected first: this is about exactness, and the connection's set-up (counted against
    // each call's 250 ms deadline) can exceed it on a busy machine, which reads as degraded.
    await redis.client.ping();
    const keyId = newKeyId();
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => sut.consume(keyId, { limit: 10, window_seconds: 60 })));
    expect(outcomes.filter((outcome) => outcome.allowed)).toHaveLength(10);
    expect(outcomes.every((outcome) => !outcome.degraded)).toBe(true);
    expect(
      outcomes
        .filter((outcome) => outcome.allowed)
        .map((outcome) => outcome.remaining)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('shares the count between instances on separate connections', async () => {
    const a = build().sut;
    const b = build().sut;
    const keyId = newKeyId();
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, index) => (index % 2 ? a : b).consume(keyId, { limit: 10, window_seconds: 60 })),
    );
    expect(outcomes.filter((outcome) => outcome.allowed)).toHaveLength(10);
  });

  it('reports remaining, resetAt and retryAfter', async () => {
    const { sut } = build();
    const keyId = newKeyId();
    const rule = { limit: 3, window_seconds: 10 };
    const startedAt = Date.now();
    const first = await sut.consume(keyId, rule);
    expect(first).toMatchObject({ allowed: true, limit: 3, remaining: 2, retryAfterSeconds: 0, degraded: false });
    // The first unit leaves the window 10 s after it was taken (Redis's clock is this machine's).
    expect(Math.abs(first.resetAt.getTime() - (startedAt + 10_000))).toBeLessThan(500);
    await sut.consume(keyId, rule);
    const third = await sut.consume(keyId, rule);
    expect(third).toMatchObject({ allowed: true, remaining: 0 });
    expect(third.resetAt.getTime()).toBe(first.resetAt.getTime());

    const refused = await sut.consume(keyId, rule);
    expect(refused).toMatchObject({ allowed: false, limit: 3, remaining: 0, retryAfterSeconds: 10, degraded: false });
    expect(refused.resetAt.getTime()).toBe(first.resetAt.getTime());
  });

  it('above the exact log, reports GCRA: a burst of the limit, then Retry-After and resetAt one interval on', async () => {
    const { sut, redis } = build();
    await redis.client.ping();
    const keyId = newKeyId();
    // 2000 a day: one unit back every 43.2 s, so none comes back during the test.
    const rule = { limit: 2_000, window_seconds: 86_400 };
    const startedAt = Date.now();
    // In batches: 2100 checks at once would outrun the 250 ms deadline on a busy machine and read as degraded.
    const outcomes = [];
    for (let batch = 0; batch < 21; batch += 1) {
      outcomes.push(...(await Promise.all(Array.from({ length: 100 }, () => sut.consume(keyId, rule)))));
    }
    expect(outcomes.every((outcome) => !outcome.degraded)).toBe(true);
    const allowed = outcomes.filter((outcome) => outcome.allowed);
    expect(allowed).toHaveLength(2_000);
    expect(Math.max(...allowed.map((outcome) => outcome.remaining))).toBe(1_999);
    const refused = outcomes.find((outcome) => !outcome.allowed)!;
    expect(refused).toMatchObject({ limit: 2_000, remaining: 0, degraded: false });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(43);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(44);
    // Refused: resetAt is when this check would pass, which Retry-After rounds up.
    expect(refused.resetAt.getTime()).toBeGreaterThan(startedAt + 40_000);
    expect(refused.resetAt.getTime()).toBeLessThanOrEqual(Date.now() + refused.retryAfterSeconds * 1_000);
    expect(await redis.client.type(`${env.redisPrefix}:rl:${keyId}:86400:gcra`)).toBe('string');
    expect(await redis.client.exists(`${env.redisPrefix}:rl:${keyId}:86400`)).toBe(0);
  });

  it('counts cost, refuses a cost that does not fit without taking any of it, and one larger than the limit', async () => {
    const { sut } = build();
    const keyId = newKeyId();
    const rule = { limit: 5, window_seconds: 30 };
    expect(await sut.consume(keyId, rule, 3)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await sut.consume(keyId, rule, 3)).toMatchObject({ allowed: false, remaining: 2 });
    expect(await sut.consume(keyId, rule, 2)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await sut.consume(keyId, rule, 6)).toMatchObject({ allowed: false, retryAfterSeconds: 30 });
    // A cost of 0 only reads.
    expect(await sut.consume(newKeyId(), rule, 0)).toMatchObject({ allowed: true, remaining: 5 });
  });

  it('slides: units come back one by one as they leave the window', async () => {
    const { sut } = build();
    const keyId = newKeyId();
    const rule = { limit: 5, window_seconds: 1 };
    for (let i = 0; i < 3; i += 1) expect((await sut.consume(keyId, rule)).allowed).toBe(true);
    await sleep(600);
    for (let i = 0; i < 2; i += 1) expect((await sut.consume(keyId, rule)).allowed).toBe(true);
    const full = await sut.consume(keyId, rule);
    expect(full).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    // 1.05 s after the first three: they have left, the two later ones have not.
    await sleep(450);
    const after = await Promise.all(Array.from({ length: 6 }, () => sut.consume(keyId, rule)));
    expect(after.filter((outcome) => outcome.allowed)).toHaveLength(3);
  });

  it('allows no double burst across a window edge', async () => {
    const { sut } = build();
    const keyId = newKeyId();
    const rule = { limit: 10, window_seconds: 2 };
    // Just before a 2 s boundary, where a fixed window would start over.
    const boundary = Math.ceil((Date.now() + 500) / 2_000) * 2_000;
    await sleep(boundary - 200 - Date.now());
    const before = await Promise.all(Array.from({ length: 10 }, () => sut.consume(keyId, rule)));
    expect(before.every((outcome) => outcome.allowed)).toBe(true);
    await sleep(boundary + 200 - Date.now());
    const after = await Promise.all(Array.from({ length: 10 }, () => sut.consume(keyId, rule)));
    expect(after.filter((outcome) => outcome.allowed)).toHaveLength(0);
    // And the burst is back once the first one has really slid out.
    await sleep(boundary - 200 + 2_100 - Date.now());
    expect((await sut.consume(keyId, rule)).allowed).toBe(true);
  });

  it('keeps separate logs per key and per window', async () => {
    const { sut } = build();
    const keyId = newKeyId();
    expect((await sut.consume(keyId, { limit: 1, window_seconds: 60 })).allowed).toBe(true);
    expect((await sut.consume(keyId, { limit: 1, window_seconds: 60 })).allowed).toBe(false);
    expect((await sut.consume(keyId, { limit: 1, window_seconds: 3600 })).allowed).toBe(true);
    expect((await sut.consume(newKeyId(), { limit: 1, window_seconds: 60 })).allowed).toBe(true);
  });

  it('keeps its keys under the prefix, expiring with the window', async () => {
    const { sut, redis } = build();
    const keyId = newKeyId();
    await sut.consume(keyId, { limit: 5, window_seconds: 7 });
    const ttl = await redis.client.pttl(`${env.redisPrefix}:rl:${keyId}:7`);
    expect(ttl).toBeGreaterThan(7_000);
    expect(ttl).toBeLessThanOrEqual(8_000);
  });

  it('reloads its script after Redis forgets it (NOSCRIPT)', async () => {
    const { sut, redis } = build();
    const keyId = newKeyId();
    expect((await sut.consume(keyId, { limit: 2, window_seconds: 60 })).allowed).toBe(true);
    await redis.client.script('FLUSH');
    expect(await sut.consume(keyId, { limit: 2, window_seconds: 60 })).toMatchObject({ allowed: true, remaining: 0, degraded: false });
  });

  describe('when Redis is away', () => {
    it('fails open by default, degraded, without throwing', async () => {
      const { sut } = build({ REDIS_URL: await deadRedisUrl() });
      const startedAt = Date.now();
      const outcome = await sut.consume(newKeyId(), { limit: 10, window_seconds: 60 });
      expect(outcome).toMatchObject({ allowed: true, limit: 10, degraded: true, retryAfterSeconds: 0 });
      expect(Date.now() - startedAt).toBeLessThan(1_000);
    });

    it('fails closed when configured', async () => {
      const { sut } = build({ REDIS_URL: await deadRedisUrl(), AUTH_REDIS_FAIL_MODE: 'closed' });
      expect(await sut.consume(newKeyId(), { limit: 10, window_seconds: 60 })).toMatchObject({
        allowed: false,
        remaining: 0,
        degraded: true,
        retryAfterSeconds: 1,
      });
    });

    it('answers within its deadline while Redis is frozen, and exactly again once it thaws', async () => {
      const server = await OwnRedisServer.start();
      try {
        const { sut } = build({ REDIS_URL: server.url, AUTH_REDIS_FAIL_MODE: 'closed' });
        const keyId = newKeyId();
        const rule = { limit: 2, window_seconds: 60 };
        expect(await sut.consume(keyId, rule)).toMatchObject({ allowed: true, degraded: false });
        server.freeze();
        const startedAt = Date.now();
        const frozen = await Promise.all(Array.from({ length: 5 }, () => sut.consume(keyId, rule)));
        expect(Date.now() - startedAt).toBeLessThan(1_000);
        expect(frozen.every((outcome) => outcome.degraded && !outcome.allowed)).toBe(true);
        server.thaw();
        // Calls that timed out may still land once it thaws: only the verdicts after that matter.
        await sleep(200);
        const after = await sut.consume(newKeyId(), rule);
        expect(after).toMatchObject({ allowed: true, degraded: false, remaining: 1 });
      } finally {
        server.thaw();
        await server.kill();
      }
    });
  });
});
