import { MikroORM } from '@mikro-orm/postgresql';
import { Queue } from 'bullmq';

import { AuthCheckPattern, bullPrefix, USAGE_QUEUE, UsageBatchJobData } from '@latchkey/contracts';
import { generateApiKey } from '@latchkey/crypto';
import { Organization } from '@latchkey/db';
import { RedisService } from '@latchkey/platform';
import { RedisRpcCaller } from '@latchkey/redis-rpc';

import { TestApp } from '../../support/create-test-app';
import { insertApiKey, signUp, UserSession } from '../../support/factories';
import { rpcCall, rpcCaller } from '../../support/rpc-caller';
import { changeKey, issueKey, nowSeconds, sentUsageEvents, signedBody, waitFor } from './auth-check-helpers';

const REPLY_WITHIN_MS = 5_000;

describe('auth.verify over the Redis transport, usage events, and the lookup fallbacks', () => {
  let sut: TestApp;
  let client: RedisRpcCaller;
  let owner: UserSession;
  let usage: Queue<UsageBatchJobData>;

  beforeAll(async () => {
    sut = await TestApp.start();
    client = rpcCaller(sut.config);
    owner = await signUp(sut);
    usage = new Queue<UsageBatchJobData>(USAGE_QUEUE, {
      prefix: bullPrefix(sut.config.REDIS_PREFIX),
      connection: { url: sut.config.REDIS_URL },
    });
  });

  afterAll(async () => {
    await usage.close();
    await client.close();
    await sut.close();
  });

  const send = <T>(payload: unknown) => rpcCall<T>(client, AuthCheckPattern.VerifyKey, payload, REPLY_WITHIN_MS);
  const sql = (query: string, params: unknown[] = []) => sut.app.get(MikroORM).em.getConnection().execute(query, params);

  it('answers the same verdict as POST /v1/verify', async () => {
    const key = await issueKey(sut, owner, { permissions: ['payments:*'], metadata: { tier: 'gold' }, quota: { limit: 5, period: 'day' } });
    const verdict = await send<Record<string, unknown>>({ key: key.secret, permissions: ['payments:read'], cost: 2 });
    expect(verdict).toEqual({
      valid: true,
      code: 'VALID',
      key_id: key.id,
      name: 'auth-check test key',
      owner_id: null,
      org_id: owner.orgId,
      environment: 'test',
      permissions: ['payments:*'],
      metadata: { tier: 'gold' },
      rate_limit: null,
      // The end of the UTC day the check fell on.
      quota: { remaining: 3, reset_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/) },
    });
    const http = await sut.post('/v1/verify', { body: { key: key.secret, permissions: ['payments:read'] } });
    expect(http.body.data).toEqual({ ...verdict, quota: { remaining: 2, reset_at: expect.any(String) } });
    expect(await send({ key: 'sk_test_bad' })).toMatchObject({ valid: false, code: 'MALFORMED' });
    expect(await send({ key: key.secret, permissions: ['users:read'] })).toMatchObject({ code: 'INSUFFICIENT_PERMISSIONS' });
  });

  it('checks signed requests too', async () => {
    const key = await issueKey(sut, owner, { signing: true });
    const body = signedBody(key.secret, key.public_key!, 'GET', '/v1/things');
    expect(await send(body)).toMatchObject({ valid: true, key_id: key.id });
    expect(await send(body)).toEqual({ valid: false, code: 'INVALID_SIGNATURE' });
  });

  it('tells a refused caller only why (revoked key, pk_ without a valid signature); the usage events still name the key', async () => {
    const carried = { permissions: ['payments:*'], metadata: { plan: 'secret-plan-name' } };
    const revoked = await issueKey(sut, owner, carried);
    await changeKey(sut, owner, revoked.id, 'revoke');
    const revokedBody = { key: revoked.secret, method: 'GET', path: `/v1/revealed/${revoked.id}` };
    const { value: revokedVerdict } = await waitFor(
      () => send<Record<string, unknown>>(revokedBody),
      (verdict) => verdict.code === 'REVOKED',
      1_000,
      10,
    );
    expect(revokedVerdict).toEqual({ valid: false, code: 'REVOKED' });

    const signing = await issueKey(sut, owner, { ...carried, signing: true });
    const refusals = [
      { key: signing.public_key, method: 'POST', path: `/v1/revealed/${signing.id}/unsigned` },
      signedBody('sk_test_not_the_secret', signing.public_key!, 'POST', `/v1/revealed/${signing.id}/forged`),
      signedBody(signing.secret, signing.public_key!, 'POST', `/v1/revealed/${signing.id}/stale`, '', nowSeconds() - 400),
    ];
    for (const body of refusals) {
      const verdict = await send<Record<string, unknown>>(body);
      expect(verdict).toEqual({ valid: false, code: 'INVALID_SIGNATURE' });
      const text = JSON.stringify(verdict);
      for (const leak of [signing.id, owner.orgId, signing.public_key!, 'secret-plan-name', 'payments:*']) expect(text).not.toContain(leak);
    }

    const wanted = [
      { path: revokedBody.path, code: 'REVOKED', key_id: revoked.id },
      ...refusals.map((body) => ({ path: body.path, code: 'INVALID_SIGNATURE', key_id: signing.id })),
    ];
    const { value: events } = await waitFor(
      () => sentUsageEvents(usage),
      (all) => wanted.every(({ path, code }) => all.some((event) => event.path === path && event.code === code)),
      5_000,
      50,
    );
    for (const { path, code, key_id } of wanted) {
      const event = events.find((candidate) => candidate.path === path && candidate.code === code);
      expect({ path, event }).toEqual({ path, event: expect.objectContaining({ key_id, org_id: owner.orgId, environment: 'test' }) });
    }
  });

  it('refuses a malformed message with {code, message}', async () => {
    const poisoned = [
      { key: 'x', path: '/a\u0000' },
      { key: 'x', method: '\ud800' },
      { key: 'x', ip: 'nope' },
    ];
    for (const payload of [{ key: 42 }, { key: 'x', extra: 1 }, {}, 'text', ...poisoned]) {
      await expect(send(payload)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.any(String) });
    }
  });

  it('emits one usage event per check, pass or fail, batched onto BullMQ', async () => {
    const key = await issueKey(sut, owner, { restrictions: { ip_allowlist: ['10.0.0.0/8'] } });
    await send({ key: key.secret, ip: '10.1.2.3', method: 'GET', path: '/v1/a' });
    await send({ key: key.secret, ip: '192.0.2.1', method: 'POST', path: '/v1/b' });
    await sut.post('/v1/verify', { body: { key: key.secret, ip: '10.9.9.9' } });
    await sut.get('/v1/check', { headers: { 'x-api-key': key.secret, 'x-forwarded-method': 'PUT', 'x-forwarded-uri': '/v1/c' } });
    const unknownKey = generateApiKey('live');
    await send({ key: unknownKey, ip: '10.0.0.1' });
    await send({ key: 'nonsense', ip: '10.0.0.2' });

    const { value: events } = await waitFor(
      () => sentUsageEvents(usage),
      (all) => all.filter((event) => event.key_id === key.id).length >= 4,
      5_000,
      50,
    );
    const mine = events.filter((event) => event.key_id === key.id);
    expect(mine.map((event) => event.code).sort()).toEqual(['IP_NOT_ALLOWED', 'IP_NOT_ALLOWED', 'VALID', 'VALID']);
    expect(mine.find((event) => event.path === '/v1/a')).toMatchObject({
      key_id: key.id,
      org_id: owner.orgId,
      environment: 'test',
      code: 'VALID',
      ip: '10.1.2.3',
      method: 'GET',
      path: '/v1/a',
    });
    for (const event of mine) {
      expect(new Date(event.at).toISOString()).toBe(event.at);
      expect(event.latency_us).toBeGreaterThanOrEqual(0);
    }
    // Via /v1/check the address is the caller's (no trusted proxy here).
    expect(mine.find((event) => event.path === '/v1/c')).toMatchObject({ method: 'PUT', code: 'IP_NOT_ALLOWED', ip: '127.0.0.1' });
    const { value: all } = await waitFor(
      () => sentUsageEvents(usage),
      (list) =>
        list.some((event) => event.code === 'MALFORMED' && event.ip === '10.0.0.2') &&
        list.some((event) => event.code === 'NOT_FOUND' && event.ip === '10.0.0.1'),
      5_000,
      50,
    );
    expect(all.find((event) => event.code === 'NOT_FOUND' && event.ip === '10.0.0.1')).toMatchObject({
      key_id: null,
      org_id: null,
      environment: 'live',
    });
    expect(all.find((event) => event.code === 'MALFORMED' && event.ip === '10.0.0.2')).toMatchObject({ key_id: null, environment: null });
  });

  it('answers a cached key with neither Postgres nor the key service: a row deleted behind its back still passes until the TTL', async () => {
    const key = await issueKey(sut, owner);
    expect(await send({ key: key.secret })).toMatchObject({ code: 'VALID' });
    // No notice is published for this delete: only the cache can answer now.
    await sql('delete from api_keys where id = ?', [key.id]);
    expect(await send({ key: key.secret })).toMatchObject({ code: 'VALID' });
  });

  it('flushes the cache when its subscriber reconnects (notices sent while it was away are lost)', async () => {
    const key = await issueKey(sut, owner);
    expect(await send({ key: key.secret })).toMatchObject({ code: 'VALID' });
    await sql('delete from api_keys where id = ?', [key.id]);
    const redis = sut.app.get(RedisService).client;
    const clients = (await redis.client('LIST')) as string;
    const ids = clients
      .split('\n')
      .filter((line) => line.includes(`name=${sut.config.REDIS_PREFIX}:key-changes `))
      .map((line) => /id=(\d+)/.exec(line)![1]);
    expect(ids).toHaveLength(1);
    await redis.client('KILL', 'ID', ids[0]);
    const { value } = await waitFor(
      () => send<{ code: string }>({ key: key.secret }),
      (verdict) => verdict.code === 'NOT_FOUND',
      5_000,
      50,
    );
    expect(value.code).toBe('NOT_FOUND');
  });

  describe('with no key service running', () => {
    let lone: TestApp;

    beforeAll(async () => {
      // Its own environment, auth-check only: keys.lookup goes unanswered.
      lone = await TestApp.start({ config: { TARGET: 'auth-check' } });
    });

    afterAll(async () => {
      await lone.close();
    });

    it('falls back to a direct read of Postgres', async () => {
      const em = lone.app.get(MikroORM).em.fork();
      const org = em.create(Organization, { name: 'Fallback Ltd' });
      await em.flush();
      const { key: row, secret } = await insertApiKey(lone, org.id, { name: 'fallback', permissions: ['a:b'] });
      const answer = await lone.post('/v1/verify', { body: { key: secret } });
      expect(answer.body.data).toMatchObject({ valid: true, code: 'VALID', key_id: row.id, org_id: org.id, permissions: ['a:b'] });
      expect((await lone.post('/v1/verify', { body: { key: generateApiKey('test') } })).body.data.code).toBe('NOT_FOUND');
    });
  });
});
