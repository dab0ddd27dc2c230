import { generateApiKey } from '@latchkey/crypto';

import { LatchkeyUnavailableError } from '../core/errors';
import { signRequest } from '../signing';
import { OutageCache } from './outage-cache';
import { PassingVerdict, Verdict, VerifyRequestBody } from './verdict';
import { Verifier, VerifyTransport } from './verifier';

const unavailable = () => new LatchkeyUnavailableError({ code: 'CONNECTION_FAILED', reason: 'connection', message: 'down' });

const pass = (keyId: string): PassingVerdict => ({
  valid: true,
  code: 'VALID',
  key_id: keyId,
  org_id: 'org_1',
  environment: 'live',
  permissions: ['orders:read'],
  metadata: {},
  rate_limit: null,
  quota: null,
});

/** A Latchkey that answers `answer` while up and throws LatchkeyUnavailableError while down. */
function latchkey(answer: (body: VerifyRequestBody) => Verdict) {
  const state = { up: true, sent: 0 };
  const fake: VerifyTransport = {
    send: (body) => {
      state.sent += 1;
      return state.up ? Promise.resolve(answer(body)) : Promise.reject(unavailable());
    },
    close: () => Promise.resolve(),
  };
  return { fake, state };
}

function setup(answer: (body: VerifyRequestBody) => Verdict = () => pass('key_1'), options = { ttlMs: 1_000, maxEntries: 10 }) {
  const clock = { now: 0 };
  const cache = new OutageCache(options, () => clock.now);
  const { fake, state } = latchkey(answer);
  return { sut: new Verifier(fake, 100, cache), cache, clock, state };
}

describe(OutageCache.name, () => {
  it('is off unless configured: an outage throws after a pass', async () => {
    const { fake, state } = latchkey(() => pass('key_1'));
    const sut = new Verifier(fake, 100);
    const key = generateApiKey('live');
    expect(await sut.verify({ key })).toMatchObject({ valid: true });
    state.up = false;
    await expect(sut.verify({ key })).rejects.toBeInstanceOf(LatchkeyUnavailableError);
  });

  it('answers a remembered pass only during an outage, marked degraded and from_cache', async () => {
    const { sut, state } = setup();
    const key = generateApiKey('live');
    const fresh = await sut.verify({ key, path: '/orders' });
    expect(fresh).toEqual(pass('key_1'));
    expect(await sut.verify({ key, path: '/orders' })).not.toHaveProperty('from_cache');
    state.up = false;
    expect(await sut.verify({ key, path: '/orders' })).toEqual({ ...pass('key_1'), degraded: true, from_cache: true });
    expect(state.sent).toBe(3);
  });

  it('answers a remembered pass without the limit and quota numbers it was stored with, which only Latchkey can count', async () => {
    const counted: PassingVerdict = {
      ...pass('key_1'),
      rate_limit: { limit: 10, remaining: 9, reset_at: '2026-12-08T00:00:10.000Z' },
      quota: { remaining: 99, reset_at: '2026-12-09T00:00:00.000Z' },
    };
    const { sut, state } = setup(() => counted);
    const key = generateApiKey('live');
    expect(await sut.verify({ key })).toEqual(counted);
    state.up = false;
    expect(await sut.verify({ key })).toEqual({ ...pass('key_1'), rate_limit: null, quota: null, degraded: true, from_cache: true });
  });

  it('forgets a key whose passes the LRU bound already dropped, and keeps counting what it holds', async () => {
    let verdict: Verdict = pass('key_1');
    const { sut, cache } = setup(() => verdict, { ttlMs: 1_000, maxEntries: 2 });
    const [first, second, third] = [generateApiKey('live'), generateApiKey('live'), generateApiKey('live')];
    for (const key of [first, second, third]) await sut.verify({ key });
    expect(cache.names()).toHaveLength(2);
    verdict = { valid: false, code: 'REVOKED' };
    await sut.verify({ key: first });
    await sut.verify({ key: second });
    expect(cache.names()).toHaveLength(1);
  });

  it('never remembers a refusal, and a refusal forgets every earlier pass of that key', async () => {
    let verdict: Verdict = pass('key_1');
    const { sut, state, cache } = setup((body) => (body.key === kept ? pass('key_2') : verdict));
    const key = generateApiKey('live');
    const kept = generateApiKey('live');
    await sut.verify({ key, path: '/a' });
    await sut.verify({ key, path: '/b' });
    await sut.verify({ key: kept, path: '/a' });
    verdict = { valid: false, code: 'REVOKED' };
    expect(await sut.verify({ key, path: '/a' })).toEqual({ valid: false, code: 'REVOKED' });
    expect(cache.names()).toHaveLength(1);
    state.up = false;
    await expect(sut.verify({ key, path: '/a' })).rejects.toBeInstanceOf(LatchkeyUnavailableError);
    await expect(sut.verify({ key, path: '/b' })).rejects.toBeInstanceOf(LatchkeyUnavailableError);
    expect(await sut.verify({ key: kept, path: '/a' })).toMatchObject({ key_id: 'key_2', from_cache: true });
  });

  it('misses when any verdict-changing facet differs, then fails open only if asked', async () => {
    const { sut, state } = setup();
    const key = generateApiKey('live');
    const base = {
      key,
      permissions: ['orders:read'],
      environment: 'live' as const,
      ip: '10.0.0.1',
      method: 'GET',
      path: '/a',
      referrer: 'https://x',
      cost: 1,
    };
    await sut.verify(base);
    state.up = false;
    expect(await sut.verify(base)).toMatchObject({ from_cache: true });
    for (const changed of [
      { path: '/b' },
      { permissions: ['orders:write'] },
      { environment: 'test' as const },
      { ip: '10.0.0.2' },
      { method: 'POST' },
      { referrer: 'https://y' },
      { cost: 2 },
    ]) {
      await expect(sut.verify({ ...base, ...changed })).rejects.toBeInstanceOf(LatchkeyUnavailableError);
    }
    await expect(sut.verify({ ...base, key: generateApiKey('live') })).rejects.toBeInstanceOf(LatchkeyUnavailableError);
    expect(await sut.verify({ ...base, path: '/b', failOpen: true })).toMatchObject({ failed_open: true, degraded: true });
  });

  it('stops answering an entry ttlMs after it was stored', async () => {
    const { sut, state, clock } = setup();
    const key = generateApiKey('live');
    await sut.verify({ key });
    state.up = false;
    clock.now = 999;
    expect(await sut.verify({ key })).toMatchObject({ from_cache: true });
    clock.now = 1_000;
    await expect(sut.verify({ key })).rejects.toBeInstanceOf(LatchkeyUnavailableError);
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const { sut, state, cache } = setup(undefined, { ttlMs: 1_000, maxEntries: 2 });
    const [a, b, c] = [generateApiKey('live'), generateApiKey('live'), generateApiKey('live')];
    await sut.verify({ key: a });
    await sut.verify({ key: b });
    state.up = false;
    await sut.verify({ key: a }); // a is now the most recently used
    state.up = true;
    await sut.verify({ key: c });
    expect(cache.names()).toHaveLength(2);
    state.up = false;
    expect(await sut.verify({ key: a })).toMatchObject({ from_cache: true });
    expect(await sut.verify({ key: c })).toMatchObject({ from_cache: true });
    await expect(sut.verify({ key: b })).rejects.toBeInstanceOf(LatchkeyUnavailableError);
  });

  it('never caches a signed call', async () => {
    const { sut, state, cache } = setup();
    const key = generateApiKey('live');
    const headers = signRequest({ secret: 'sec', method: 'POST', path: '/orders', body: '{}' });
    const signed = { key, method: 'POST', path: '/orders', body: '{}', signatureHeader: headers['x-signature'] };
    await sut.verify(signed);
    expect(cache.names()).toEqual([]);
    state.up = false;
    await expect(sut.verify(signed)).rejects.toBeInstanceOf(LatchkeyUnavailableError);
  });

  it('holds hashes, never the raw key', async () => {
    const { sut, cache } = setup();
    const key = generateApiKey('live');
    await sut.verify({ key, path: '/orders' });
    const names = cache.names();
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify([...(cache as unknown as { entries: Map<string, unknown> }).entries])).not.toContain(key);
  });
});
