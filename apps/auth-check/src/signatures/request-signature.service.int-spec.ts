import { Logger } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { RedisService } from '@latchkey/platform';

import { deadRedisUrl } from '../../../../test/support/own-redis-server';
import { TestEnvironment } from '../../../../test/support/test-environment';
import {
  EMPTY_BODY_SHA256,
  REPLAY_GUARD_MARGIN_SECONDS,
  RequestSignatureService,
  sha256Hex,
  SIGNATURE_TOLERANCE_SECONDS,
  signRequest,
} from './request-signature.service';

describe(RequestSignatureService.name, () => {
  let env: TestEnvironment;
  let redis: RedisService;
  let sut: RequestSignatureService;
  const redisServices: RedisService[] = [];
  let keySeq = 0;
  const newKeyId = () => `key_sig_${++keySeq}_${Date.now()}`;
  const current = 'sk_current_secret_0123456789abcdef';
  const previous = 'sk_previous_secret_0123456789abcdef';
  const nowSeconds = () => Math.floor(Date.now() / 1_000);
  const body = '{"amount":100}';

  function request(overrides: { timestamp?: number; secret?: string; method?: string; path?: string; body?: string } = {}) {
    const signed = {
      timestamp: overrides.timestamp ?? nowSeconds(),
      method: overrides.method ?? 'POST',
      path: overrides.path ?? '/v1/charges?expand=customer',
      bodySha256: sha256Hex(overrides.body ?? body),
    };
    return { header: signRequest(overrides.secret ?? current, signed), ...signed };
  }

  function build(overrides: Record<string, string> = {}): RequestSignatureService {
    const service = new RedisService(new AppConfig(env.config(overrides)));
    redisServices.push(service);
    return new RequestSignatureService(service);
  }

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    env = await TestEnvironment.create();
    sut = build();
    redis = redisServices[0];
  });

  afterAll(async () => {
    redisServices.forEach((service) => service.client.disconnect());
    await env.destroy();
  });

  it('accepts a good signature once, and refuses its replay', async () => {
    const keyId = newKeyId();
    const signed = request();
    const input = { keyId, secrets: [current], header: signed.header, method: 'POST', path: signed.path, bodySha256: signed.bodySha256 };
    expect(await sut.verify(input)).toBe(true);
    expect(await sut.verify(input)).toBe(false);
    // The guard is kept a little longer than the tolerance.
    const [guard] = await redis.client.keys(`${env.redisPrefix}:sig:${keyId}:*`);
    expect(await redis.client.ttl(guard)).toBeGreaterThan(300);
  });

  it('lets only one of concurrent replays through', async () => {
    const keyId = newKeyId();
    const signed = request();
    const input = { keyId, secrets: [current], header: signed.header, method: 'POST', path: signed.path, bodySha256: signed.bodySha256 };
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => sut.verify(input)));
    expect(verdicts.filter(Boolean)).toHaveLength(1);
  });

  it('accepts a method in any case and an upper-case body hash', async () => {
    const signed = request();
    expect(
      await sut.verify({
        keyId: newKeyId(),
        secrets: [current],
        header: signed.header,
        method: 'post',
        path: signed.path,
        bodySha256: signed.bodySha256.toUpperCase(),
      }),
    ).toBe(true);
  });

  it('refuses a signature under another secret', async () => {
    const signed = request({ secret: 'sk_someone_else_0123456789abcdef' });
    expect(await sut.verify({ keyId: newKeyId(), secrets: [current, previous], ...signed })).toBe(false);
  });

  it.each([
    ['method', { method: 'PUT' }],
    ['path', { path: '/v1/charges?expand=all' }],
    ['body', { bodySha256: sha256Hex('{"amount":1000}') }],
  ])('refuses a request whose %s differs from what was signed', async (_, change) => {
    const signed = request();
    expect(await sut.verify({ keyId: newKeyId(), secrets: [current], ...signed, ...change })).toBe(false);
  });

  describe('with the clock held still', () => {
    // Held so that a second ticking between signing and checking cannot move a case across its edge.
    beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(Date.now()));
    afterEach(() => jest.restoreAllMocks());

    it('refuses a signature over five minutes old, and accepts one just inside', async () => {
      const keyId = newKeyId();
      expect(await sut.verify({ keyId, secrets: [current], ...request({ timestamp: nowSeconds() - 301 }) })).toBe(false);
      expect(await sut.verify({ keyId, secrets: [current], ...request({ timestamp: nowSeconds() - 295 }) })).toBe(true);
    });

    it('refuses a signature dated over a minute ahead of the server, and accepts one just inside', async () => {
      const keyId = newKeyId();
      expect(await sut.verify({ keyId, secrets: [current], ...request({ timestamp: nowSeconds() + 61 }) })).toBe(false);
      expect(await sut.verify({ keyId, secrets: [current], ...request({ timestamp: nowSeconds() + 295 }) })).toBe(false);
      expect(await sut.verify({ keyId, secrets: [current], ...request({ timestamp: nowSeconds() + 59 }) })).toBe(true);
    });
  });

  it.each([
    ['dated ahead of the server', 59],
    ['dated now', 0],
    ['nearly stale', -290],
  ])('keeps the replay guard of a signature %s until its date plus the tolerance and the margin', async (_, offset) => {
    const keyId = newKeyId();
    const signed = request({ timestamp: nowSeconds() + offset });
    expect(await sut.verify({ keyId, secrets: [current], ...signed })).toBe(true);
    const [guard] = await redis.client.keys(`${env.redisPrefix}:sig:${keyId}:*`);
    const expiresAtMs = Date.now() + (await redis.client.pttl(guard));
    // Past the last second the signature could still be accepted, so its replay is refused for as long as it is good ...
    expect(expiresAtMs).toBeGreaterThan((signed.timestamp + SIGNATURE_TOLERANCE_SECONDS) * 1_000);
    // ... counted from the signature's date, not from when it was seen.
    const dueMs = (signed.timestamp + SIGNATURE_TOLERANCE_SECONDS + REPLAY_GUARD_MARGIN_SECONDS) * 1_000;
    expect(expiresAtMs).toBeGreaterThan(dueMs - 1_000);
    expect(expiresAtMs).toBeLessThanOrEqual(dueMs + 50);
  });

  it("accepts the previous secret during a roll's grace, and not once it is gone", async () => {
    const signed = request({ secret: previous });
    expect(await sut.verify({ keyId: newKeyId(), secrets: [current, previous], ...signed })).toBe(true);
    expect(await sut.verify({ keyId: newKeyId(), secrets: [current], ...request({ secret: previous }) })).toBe(false);
  });

  it('accepts a header signed with both secrets, and no replay of either half', async () => {
    const keyId = newKeyId();
    const withCurrent = request();
    const withPrevious = signRequest(previous, { ...withCurrent });
    const v1Previous = withPrevious.split(',')[1];
    const both = `${withCurrent.header},${v1Previous}`;
    const input = {
      keyId,
      secrets: [current, previous],
      method: withCurrent.method,
      path: withCurrent.path,
      bodySha256: withCurrent.bodySha256,
    };
    expect(await sut.verify({ ...input, header: both })).toBe(true);
    expect(await sut.verify({ ...input, header: withPrevious })).toBe(false);
    expect(await sut.verify({ ...input, header: withCurrent.header })).toBe(false);
  });

  it('signs an empty body as the hash of the empty string', async () => {
    const timestamp = nowSeconds();
    const header = signRequest(current, { timestamp, method: 'GET', path: '/v1/check', bodySha256: EMPTY_BODY_SHA256 });
    expect(
      await sut.verify({ keyId: newKeyId(), secrets: [current], header, method: 'GET', path: '/v1/check', bodySha256: sha256Hex('') }),
    ).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['garbage', 'nonsense'],
    ['no v1', `t=${Math.floor(Date.now() / 1_000)}`],
  ])('refuses %s', async (_, header) => {
    expect(
      await sut.verify({ keyId: newKeyId(), secrets: [current], header, method: 'GET', path: '/', bodySha256: EMPTY_BODY_SHA256 }),
    ).toBe(false);
  });

  it('refuses when the key has no secret to check against', async () => {
    expect(await sut.verify({ keyId: newKeyId(), secrets: [], ...request() })).toBe(false);
  });

  it('fails closed when Redis is away: without the replay guard nothing is accepted', async () => {
    const offline = build({ REDIS_URL: await deadRedisUrl() });
    const startedAt = Date.now();
    expect(await offline.verify({ keyId: newKeyId(), secrets: [current], ...request() })).toBe(false);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });
});
