import { Controller, Get, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';

import { CurrentKey, LatchkeyModule, RequireKey, SkipKey } from '../../../packages/sdk/src/nestjs';
import type { PassingVerdict } from '../../../packages/sdk/src/verifier/verdict';
import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { freePort } from '../../support/free-port';
import { changeKey, issueKey, waitFor } from '../auth-check/auth-check-helpers';

const INTERNAL_TOKEN = 'i'.repeat(32);

@Controller('orders')
@RequireKey({ permissions: ['orders:read'] })
class OrdersController {
  @Get()
  list(@CurrentKey() key: PassingVerdict) {
    return { key_id: key.key_id, org_id: key.org_id };
  }

  @Get('health')
  @SkipKey()
  health() {
    return { ok: true };
  }
}

/** An operator's service guarded by the SDK's Nest module, verifying against a real Latchkey. */
async function consumer(options: Parameters<typeof LatchkeyModule.forRoot>[0]): Promise<{ app: INestApplication; url: string }> {
  const module = { module: class ConsumerModule {}, imports: [LatchkeyModule.forRoot(options)], controllers: [OrdersController] };
  const app = await NestFactory.create(module, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

describe('the Nest guard of @latchkey/sdk/nestjs', () => {
  let latchkey: TestApp;
  let owner: UserSession;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    latchkey = await TestApp.start({ config: { INTERNAL_TOKEN } });
    owner = await signUp(latchkey);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await latchkey.close();
  });

  async function start(options: Parameters<typeof LatchkeyModule.forRoot>[0]) {
    const started = await consumer(options);
    apps.push(started.app);
    return (path: string, headers: Record<string, string> = {}) => fetch(`${started.url}${path}`, { headers });
  }

  it.each(['http', 'redis'] as const)('maps every kind of verdict to its status and headers (%s)', async (transport) => {
    const call = await start(
      transport === 'http'
        ? { baseUrl: latchkey.baseUrl, internalToken: INTERNAL_TOKEN }
        : {
            redis: { url: latchkey.config.REDIS_URL, prefix: latchkey.config.REDIS_PREFIX },
            internalToken: INTERNAL_TOKEN,
            timeoutMs: 5_000,
          },
    );
    const good = await issueKey(latchkey, owner, { permissions: ['orders:read'] });
    const narrow = await issueKey(latchkey, owner, { permissions: ['users:read'] });
    const limited = await issueKey(latchkey, owner, { permissions: ['orders:read'], rate_limit: { limit: 1, window_seconds: 60 } });
    const revoked = await issueKey(latchkey, owner, { permissions: ['orders:read'] });
    await changeKey(latchkey, owner, revoked.id, 'revoke');

    const passed = await call('/orders', { authorization: `Bearer ${good.secret}` });
    expect(passed.status).toBe(200);
    expect(await passed.json()).toEqual({ key_id: good.id, org_id: owner.orgId });

    const malformed = await call('/orders', { 'x-api-key': 'sk_test_nope' });
    expect(malformed.status).toBe(401);
    expect(malformed.headers.get('www-authenticate')).toContain('error="malformed"');
    expect(await malformed.json()).toMatchObject({ error: { code: 'MALFORMED' } });
    expect((await call('/orders')).status).toBe(401);

    const { value: refusedRevoked } = await waitFor(
      () => call('/orders', { 'x-api-key': revoked.secret }),
      (answer) => answer.status === 401,
      5_000,
      20,
    );
    expect(await refusedRevoked.json()).toMatchObject({ error: { code: 'REVOKED' } });

    const forbidden = await call('/orders', { 'x-api-key': narrow.secret });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: 'INSUFFICIENT_PERMISSIONS' } });

    expect((await call('/orders', { 'x-api-key': limited.secret })).status).toBe(200);
    const tooMany = await call('/orders', { 'x-api-key': limited.secret });
    expect(tooMany.status).toBe(429);
    expect(Number(tooMany.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await tooMany.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });

    expect((await call('/orders/health')).status).toBe(200);
  });

  it('answers 503, never 401, when Latchkey cannot be reached', async () => {
    const call = await start({ baseUrl: `http://127.0.0.1:${await freePort()}`, internalToken: INTERNAL_TOKEN });
    const key = await issueKey(latchkey, owner, { permissions: ['orders:read'] });
    const answer = await call('/orders', { 'x-api-key': key.secret });
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
  });
});
