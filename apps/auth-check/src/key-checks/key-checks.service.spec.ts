import { KeyRecord, UsageEvent } from '@latchkey/contracts';
import { generateApiKey, SecretBox } from '@latchkey/crypto';
import { AppError } from '@latchkey/platform';

import { MaybePromise } from '../front-door/maybe-promise';
import { compileKey } from '../key-records/compiled-key';
import { KeyLookupResult, KeyRecordsService } from '../key-records/key-records.service';
import { QuotaLedgerService } from '../quotas/quota-ledger.service';
import { RateLimiterService } from '../rate-limits/rate-limiter.service';
import { RequestSignatureService } from '../signatures/request-signature.service';
import { UsageEventBuffer } from '../usage-events/usage-event-buffer.service';
import { KeyChecksService } from './key-checks.service';
import { KeyCheck, KeyCheckInput } from './key-verdict';

const box = new SecretBox('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');

function record(fields: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: 'key_1',
    name: 'Checkout backend',
    owner_id: 'cus_42',
    org_id: 'org_1',
    environment: 'test',
    status: 'active',
    expires_at: null,
    disabled_at: null,
    revoked_at: null,
    permissions: ['a:read'],
    restrictions: { ip_allowlist: [], referrers: [], endpoints: [] },
    rate_limit: { limit: 10, window_seconds: 60 },
    quota: { limit: 10, period: 'day' },
    metadata: {},
    signing: false,
    public_key: null,
    signing_secret_sealed: null,
    previous_signing_secret_sealed: null,
    previous_secret_expires_at: null,
    matched: 'current',
    ...fields,
  };
}

function input(fields: Partial<KeyCheckInput> = {}): KeyCheckInput {
  return {
    key: generateApiKey('test'),
    ip: null,
    referrer: null,
    method: null,
    path: null,
    cost: 1,
    signatureHeader: null,
    bodySha256: null,
    ...fields,
  };
}

/** `cached`: the lookup answers (or fails) at once, as on a cache hit. */
function build(
  found: KeyRecord | null | Error,
  {
    rateLimitDegraded = false,
    lookupDegraded = false,
    cached = false,
    rateLimited = false,
    quotaExhausted = false,
    signatureValid = true,
  } = {},
) {
  const calls = { lookups: 0, rate: 0, quota: 0, signatures: 0 };
  const events: UsageEvent[] = [];
  const lookup = (): MaybePromise<KeyLookupResult> => {
    calls.lookups += 1;
    if (found instanceof Error) {
      if (cached) throw found;
      return Promise.reject(found);
    }
    const result = { key: found ? compileKey(found, box) : null, degraded: lookupDegraded };
    return cached ? result : Promise.resolve(result);
  };
  const keys = { bySecret: lookup, byPublicKey: lookup } as unknown as KeyRecordsService;
  const rateLimiter = {
    consume: () => {
      calls.rate += 1;
      if (rateLimitDegraded) {
        return Promise.resolve({ allowed: true, limit: 10, remaining: 0, resetAt: new Date(), retryAfterSeconds: 0, degraded: true });
      }
      if (rateLimited) {
        return Promise.resolve({ allowed: false, limit: 10, remaining: 0, resetAt: new Date(), retryAfterSeconds: 30, degraded: false });
      }
      return Promise.resolve({ allowed: true, limit: 10, remaining: 9, resetAt: new Date(), retryAfterSeconds: 0, degraded: false });
    },
  } as unknown as RateLimiterService;
  const quotas = {
    consume: () => {
      calls.quota += 1;
      if (quotaExhausted) return Promise.resolve({ allowed: false, remaining: 0, degraded: false });
      return Promise.resolve({ allowed: true, remaining: 9, degraded: true });
    },
  } as unknown as QuotaLedgerService;
  const signatures = {
    verify: () => {
      calls.signatures += 1;
      return Promise.resolve(signatureValid);
    },
  } as unknown as RequestSignatureService;
  const usage = { emit: (event: UsageEvent) => events.push(event) } as unknown as UsageEventBuffer;
  const sut = new KeyChecksService(keys, quotas, rateLimiter, signatures, usage);
  return { sut, calls, events };
}

describe(KeyChecksService.name, () => {
  it('answers MALFORMED with no lookup at all, and emits the event', async () => {
    const { sut, calls, events } = build(record());
    const { verdict } = await sut.verify(input({ key: 'sk_test_nope' }));
    expect(verdict.code).toBe('MALFORMED');
    expect(calls.lookups).toBe(0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ code: 'MALFORMED', key_id: null, environment: null });
  });

  it('spends neither rate limit nor quota on a refused check', async () => {
    const { sut, calls } = build(record());
    expect((await sut.verify(input({ permissions: ['b:write'] }))).verdict.code).toBe('INSUFFICIENT_PERMISSIONS');
    expect(calls).toMatchObject({ rate: 0, quota: 0 });
    const passed = await sut.verify(input({ permissions: ['a:read'] }));
    expect(passed.verdict).toMatchObject({ valid: true, code: 'VALID', quota: { remaining: 9 }, rate_limit: { limit: 10, remaining: 9 } });
    expect(passed.verdict.degraded).toBe(true);
    expect(calls).toMatchObject({ rate: 1, quota: 1 });
  });

  it('reports no rate-limit numbers it could not ask Redis for (so /v1/check sends no RateLimit-* headers)', async () => {
    const { sut } = build(record(), { rateLimitDegraded: true });
    const { verdict } = await sut.verify(input());
    expect(verdict).toMatchObject({ valid: true, degraded: true, rate_limit: null });
  });

  it("refuses a signing key's sk secret without asking the signature service", async () => {
    const { sut, calls } = build(record({ signing: true, public_key: generateApiKey('test', 'pk') }));
    expect((await sut.verify(input())).verdict.code).toBe('INVALID_SIGNATURE');
    expect(calls.signatures).toBe(0);
  });

  it('judges a cached key that spends nothing synchronously, and goes async only for what needs Redis', async () => {
    const plain = build(record({ rate_limit: null, quota: null }), { cached: true });
    const answered = plain.sut.verify(input());
    expect(answered).not.toBeInstanceOf(Promise);
    expect((answered as KeyCheck).verdict).toMatchObject({ valid: true, code: 'VALID' });
    expect(plain.events).toHaveLength(1);

    const limited = build(record(), { cached: true });
    const pending = limited.sut.verify(input());
    expect(pending).toBeInstanceOf(Promise);
    expect((await pending).verdict.rate_limit).toMatchObject({ limit: 10, remaining: 9 });
    expect(limited.events).toHaveLength(1);
  });

  it('answers cached refusals synchronously too, each with exactly one event', () => {
    const cases: [KeyRecord | null, Partial<KeyCheckInput>, string][] = [
      [null, {}, 'NOT_FOUND'],
      [record({ revoked_at: new Date().toISOString() }), {}, 'REVOKED'],
      [record({ restrictions: { ip_allowlist: ['10.0.0.0/8'], referrers: [], endpoints: [] } }), { ip: '203.0.113.7' }, 'IP_NOT_ALLOWED'],
      [record(), { key: 'sk_test_nope' }, 'MALFORMED'],
    ];
    for (const [found, fields, code] of cases) {
      const { sut, events, calls } = build(found, { cached: true });
      const answered = sut.verify(input(fields));
      expect(answered).not.toBeInstanceOf(Promise);
      expect((answered as KeyCheck).verdict.code).toBe(code);
      expect(events).toHaveLength(1);
      expect(calls).toMatchObject({ rate: 0, quota: 0 });
    }
  });

  it('goes async for a cached signing key (its signature is checked in Redis)', async () => {
    const publicKey = generateApiKey('test', 'pk');
    const { sut, calls } = build(record({ signing: true, public_key: publicKey, rate_limit: null, quota: null }), { cached: true });
    const answered = sut.verify(input({ key: publicKey, signatureHeader: 't=1,v1=ab', method: 'GET', path: '/x' }));
    expect(answered).toBeInstanceOf(Promise);
    expect((await answered).verdict.code).toBe('VALID');
    expect(calls.signatures).toBe(1);
  });

  it('throws at once, and emits nothing, when a lookup fails synchronously', () => {
    const { sut, events } = build(AppError.unavailable('down'), { cached: true });
    expect(() => sut.verify(input())).toThrow(AppError);
    expect(events).toHaveLength(0);
  });

  it('fails closed (throws) when the key cannot be looked up at all, and emits nothing', async () => {
    const { sut, events } = build(AppError.unavailable('down'));
    await expect(sut.verify(input())).rejects.toBeInstanceOf(AppError);
    expect(events).toHaveLength(0);
  });

  describe('what a refusal tells its caller', () => {
    const withSecrets = { metadata: { plan: 'pro' }, permissions: ['payments:*'] };

    it.each([
      ['REVOKED', record({ ...withSecrets, revoked_at: new Date().toISOString() }), {}],
      ['DISABLED', record({ ...withSecrets, disabled_at: new Date().toISOString() }), {}],
      ['WRONG_ENVIRONMENT', record(withSecrets), { environment: 'live' as const }],
      ['INSUFFICIENT_PERMISSIONS', record(withSecrets), { permissions: ['users:write'] }],
    ])('%s: only the code, while its usage event still names the key and its organisation', async (code, found, fields) => {
      const { sut, events } = build(found);
      const check = await sut.verify(input(fields));
      expect(check.verdict).toEqual({ valid: false, code });
      expect(check.key).toEqual({ key_id: 'key_1', org_id: 'org_1', environment: 'test' });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ code, key_id: 'key_1', org_id: 'org_1', environment: 'test' });
    });

    it('INVALID_SIGNATURE for a pk_ identifier without a valid signature: only the code; the event names the key', async () => {
      const publicKey = generateApiKey('test', 'pk');
      const { sut, events, calls } = build(record({ ...withSecrets, signing: true, public_key: publicKey }), { signatureValid: false });
      const check = await sut.verify(input({ key: publicKey, signatureHeader: `t=1,v1=${'a'.repeat(64)}`, method: 'GET', path: '/x' }));
      expect(calls.signatures).toBe(1);
      expect(check.verdict).toEqual({ valid: false, code: 'INVALID_SIGNATURE' });
      expect(events[0]).toMatchObject({ code: 'INVALID_SIGNATURE', key_id: 'key_1', org_id: 'org_1' });
    });

    it('RATE_LIMITED: the code and the rate limit it ran into, nothing of the key', async () => {
      const { sut, events, calls } = build(record(withSecrets), { rateLimited: true });
      const check = await sut.verify(input());
      expect(check.verdict).toEqual({
        valid: false,
        code: 'RATE_LIMITED',
        rate_limit: { limit: 10, remaining: 0, reset_at: expect.any(String) },
        quota: null,
      });
      expect(check.retryAfterSeconds).toBe(30);
      expect(calls.quota).toBe(0);
      expect(events[0]).toMatchObject({ code: 'RATE_LIMITED', key_id: 'key_1', org_id: 'org_1' });
    });

    it('QUOTA_EXCEEDED: the code and both limits, nothing of the key', async () => {
      const { sut, events } = build(record(withSecrets), { quotaExhausted: true });
      const check = await sut.verify(input());
      expect(check.verdict).toEqual({
        valid: false,
        code: 'QUOTA_EXCEEDED',
        rate_limit: { limit: 10, remaining: 9, reset_at: expect.any(String) },
        // A day quota refills at the next UTC midnight.
        quota: { remaining: 0, reset_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/) },
      });
      expect(events[0]).toMatchObject({ code: 'QUOTA_EXCEEDED', key_id: 'key_1', org_id: 'org_1' });
    });

    it('keeps degraded on a refusal a fallback answered: it says how sure the answer is, not whose key it is', async () => {
      const { sut } = build(record({ ...withSecrets, revoked_at: new Date().toISOString() }), { lookupDegraded: true });
      expect((await sut.verify(input())).verdict).toEqual({ valid: false, code: 'REVOKED', degraded: true });
    });

    it('a pass still carries the key, its name and owner, its organisation, permissions and metadata', async () => {
      const { sut } = build(record({ ...withSecrets, rate_limit: null, quota: null }));
      expect((await sut.verify(input())).verdict).toEqual({
        valid: true,
        code: 'VALID',
        key_id: 'key_1',
        name: 'Checkout backend',
        owner_id: 'cus_42',
        org_id: 'org_1',
        environment: 'test',
        permissions: ['payments:*'],
        metadata: { plan: 'pro' },
        rate_limit: null,
        quota: null,
      });
    });
  });

  it("answers NOT_FOUND for a rolled key's old secret once its grace is over", async () => {
    const { sut } = build(record({ matched: 'previous', previous_secret_expires_at: new Date(Date.now() - 1).toISOString() }));
    expect((await sut.verify(input())).verdict.code).toBe('NOT_FOUND');
  });
});
