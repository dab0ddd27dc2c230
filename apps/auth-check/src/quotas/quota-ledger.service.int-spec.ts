import { Logger } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { RedisService } from '@latchkey/platform';

import { deadRedisUrl } from '../../../../test/support/own-redis-server';
import { TestEnvironment } from '../../../../test/support/test-environment';
import { QuotaLedgerService } from './quota-ledger.service';
import { quotaBucket, QuotaPeriod } from './quota-period';

describe(QuotaLedgerService.name, () => {
  let env: TestEnvironment;
  const redisServices: RedisService[] = [];
  let keySeq = 0;
  const newKeyId = () => `key_q_${++keySeq}_${Date.now()}`;

  function build(overrides: Record<string, string> = {}): { sut: QuotaLedgerService; redis: RedisService } {
    const config = new AppConfig(env.config(overrides));
    const redis = new RedisService(config);
    redisServices.push(redis);
    return { sut: new QuotaLedgerService(config, redis), redis };
  }

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    env = await TestEnvironment.create();
  });

  afterAll(async () => {
    redisServices.forEach((redis) => redis.client.disconnect());
    await env.destroy();
  });

  it('takes the cost from the quota and refuses, taking nothing, a check that would go below zero', async () => {
    const { sut } = build();
    const keyId = newKeyId();
    const quota = { limit: 10, period: QuotaPeriod.Day };
    expect(await sut.consume(keyId, quota, 4)).toEqual({ allowed: true, remaining: 6, degraded: false });
    expect(await sut.consume(keyId, quota, 1)).toEqual({ allowed: true, remaining: 5, degraded: false });
    expect(await sut.consume(keyId, quota, 6)).toEqual({ allowed: false, remaining: 5, degraded: false });
    expect(await sut.remaining(keyId, quota)).toBe(5);
    expect(await sut.consume(keyId, quota, 5)).toEqual({ allowed: true, remaining: 0, degraded: false });
    expect(await sut.consume(keyId, quota, 1)).toEqual({ allowed: false, remaining: 0, degraded: false });
    // A cost of 0 reads without taking.
    expect(await sut.consume(keyId, quota, 0)).toEqual({ allowed: true, remaining: 0, degraded: false });
  });

  it('never goes below zero under 50 concurrent checks', async () => {
    const a = build().sut;
    const b = build().sut;
    const keyId = newKeyId();
    const quota = { limit: 100, period: QuotaPeriod.Month };
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, index) => (index % 2 ? a : b).consume(keyId, quota, 3)));
    expect(outcomes.filter((outcome) => outcome.allowed)).toHaveLength(33);
    expect(outcomes.every((outcome) => outcome.remaining >= 0)).toBe(true);
    expect(await a.remaining(keyId, quota)).toBe(1);
    expect(await a.consume(keyId, quota, 1)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('counts day, month and total in separate UTC buckets, the periodic ones expiring', async () => {
    const { sut, redis } = build();
    const keyId = newKeyId();
    await sut.consume(keyId, { limit: 5, period: QuotaPeriod.Day }, 1);
    await sut.consume(keyId, { limit: 5, period: QuotaPeriod.Month }, 2);
    await sut.consume(keyId, { limit: 5, period: QuotaPeriod.Total }, 3);
    const now = new Date();
    const day = quotaBucket(QuotaPeriod.Day, now);
    const month = quotaBucket(QuotaPeriod.Month, now);
    const keys = (name: string) => `${env.redisPrefix}:quota:${keyId}:${name}`;
    expect(await redis.client.mget(keys(day.name), keys(month.name), keys('total'))).toEqual(['1', '2', '3']);
    expect(day.name).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(month.name).toMatch(/^\d{4}-\d{2}$/);
    expect(await redis.client.expiretime(keys(day.name))).toBe(day.expiresAt);
    expect(await redis.client.expiretime(keys(month.name))).toBe(month.expiresAt);
    expect(await redis.client.ttl(keys('total'))).toBe(-1);
    expect(await sut.remaining(keyId, { limit: 5, period: QuotaPeriod.Total })).toBe(2);
  });

  it('applies a new limit to the running period at once', async () => {
    const { sut } = build();
    const keyId = newKeyId();
    await sut.consume(keyId, { limit: 5, period: QuotaPeriod.Total }, 5);
    expect(await sut.consume(keyId, { limit: 5, period: QuotaPeriod.Total }, 1)).toMatchObject({ allowed: false });
    expect(await sut.consume(keyId, { limit: 8, period: QuotaPeriod.Total }, 1)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await sut.remaining(keyId, { limit: 3, period: QuotaPeriod.Total })).toBe(0);
  });

  it('reports the whole limit for an unused key', async () => {
    const { sut } = build();
    expect(await sut.remaining(newKeyId(), { limit: 42, period: QuotaPeriod.Day })).toBe(42);
  });

  describe('when Redis is away', () => {
    it('fails open by default, degraded, and cannot say what remains', async () => {
      const { sut } = build({ REDIS_URL: await deadRedisUrl() });
      expect(await sut.consume(newKeyId(), { limit: 5, period: QuotaPeriod.Day }, 1)).toEqual({
        allowed: true,
        remaining: 0,
        degraded: true,
      });
      expect(await sut.remaining(newKeyId(), { limit: 5, period: QuotaPeriod.Day })).toBeNull();
    });

    it('fails closed when configured', async () => {
      const { sut } = build({ REDIS_URL: await deadRedisUrl(), AUTH_REDIS_FAIL_MODE: 'closed' });
      expect(await sut.consume(newKeyId(), { limit: 5, period: QuotaPeriod.Day }, 1)).toEqual({
        allowed: false,
        remaining: 0,
        degraded: true,
      });
    });
  });
});
