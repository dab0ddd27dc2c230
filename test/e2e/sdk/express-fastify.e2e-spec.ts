import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

import Fastify, { FastifyInstance } from 'fastify';

import { createVerifier, signRequest, Verifier } from '../../../packages/sdk/src';
import { latchkeyExpress, LatchkeyExpressOptions } from '../../../packages/sdk/src/express';
import { latchkeyFastify, latchkeyPreHandler } from '../../../packages/sdk/src/fastify';
import type { PassingVerdict } from '../../../packages/sdk/src/verifier/verdict';
import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { freePort } from '../../support/free-port';
import { issueKey } from '../auth-check/auth-check-helpers';

const INTERNAL_TOKEN = 'i'.repeat(32);

type Guarded = IncomingMessage & { latchkey?: PassingVerdict; rawBody?: Buffer };

/** Express runs middleware as `(req, res, next)` on node:http's own request and response: so does this server. */
async function expressLike(options: LatchkeyExpressOptions): Promise<{ server: Server; url: string }> {
  const middleware = latchkeyExpress(options);
  const server = createServer((req: Guarded, res: ServerResponse) => {
    middleware(req, res, (error?: unknown) => {
      res.setHeader('content-type', 'application/json');
      if (error) {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: error instanceof Error ? error.message : 'unknown' }));
        return;
      }
      res.end(JSON.stringify({ key_id: req.latchkey?.key_id, raw: req.rawBody?.toString('utf8') ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the Express and Fastify adapters of @latchkey/sdk', () => {
  let latchkey: TestApp;
  let owner: UserSession;
  let verifier: Verifier;
  const servers: Server[] = [];
  const fastifies: FastifyInstance[] = [];

  beforeAll(async () => {
    latchkey = await TestApp.start({ config: { INTERNAL_TOKEN } });
    owner = await signUp(latchkey);
    verifier = createVerifier({ baseUrl: latchkey.baseUrl, internalToken: INTERNAL_TOKEN });
  });

  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    for (const app of fastifies) await app.close();
    await verifier.close();
    await latchkey.close();
  });

  async function express(options: Omit<LatchkeyExpressOptions, 'verifier'>, withVerifier = verifier) {
    const started = await expressLike({ verifier: withVerifier, ...options });
    servers.push(started.server);
    return (path: string, init: RequestInit = {}) => fetch(`${started.url}${path}`, init);
  }

  describe('latchkeyExpress', () => {
    it('passes a good key with its verdict and answers each refusal as the Nest guard does', async () => {
      const call = await express({ permissions: ['orders:read'] });
      const good = await issueKey(latchkey, owner, { permissions: ['orders:read'] });
      const narrow = await issueKey(latchkey, owner, { permissions: ['users:read'] });
      const limited = await issueKey(latchkey, owner, { permissions: ['orders:read'], rate_limit: { limit: 1, window_seconds: 60 } });

      const passed = await call('/orders', { headers: { authorization: `Bearer ${good.secret}` } });
      expect(passed.status).toBe(200);
      expect(await passed.json()).toEqual({ key_id: good.id, raw: null });

      const missing = await call('/orders');
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toContain('error="malformed"');
      expect(await missing.json()).toMatchObject({ success: false, error: { code: 'MALFORMED' } });

      const forbidden = await call('/orders', { headers: { 'x-api-key': narrow.secret } });
      expect(forbidden.status).toBe(403);
      expect(await forbidden.json()).toMatchObject({ error: { code: 'INSUFFICIENT_PERMISSIONS' } });

      expect((await call('/orders', { headers: { 'x-api-key': limited.secret } })).status).toBe(200);
      const tooMany = await call('/orders', { headers: { 'x-api-key': limited.secret } });
      expect(tooMany.status).toBe(429);
      expect(Number(tooMany.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('sends the forwarded client address only through as many proxies as it trusts', async () => {
      const key = await issueKey(latchkey, owner, { restrictions: { ip_allowlist: ['203.0.113.9/32'] } });
      const headers = { 'x-api-key': key.secret, 'x-forwarded-for': '203.0.113.9' };
      const trusting = await express({ trustProxy: 1 });
      const wary = await express({});
      expect((await trusting('/orders', { headers })).status).toBe(200);
      const refused = await wary('/orders', { headers });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: { code: 'IP_NOT_ALLOWED' } });
    });

    it('checks a signing key over the method, path and raw body it reads', async () => {
      const call = await express({});
      const key = await issueKey(latchkey, owner, { signing: true });
      const body = '{"amount":42}';
      const signed = signRequest({ secret: key.secret, method: 'POST', path: '/orders?dry=1', body });
      const passed = await call('/orders?dry=1', { method: 'POST', body, headers: { 'x-api-key': key.public_key!, ...signed } });
      expect(passed.status).toBe(200);
      expect(await passed.json()).toEqual({ key_id: key.id, raw: body });

      const tampered = await call('/orders?dry=1', {
        method: 'POST',
        body: '{"amount":4200}',
        headers: { 'x-api-key': key.public_key!, ...signed },
      });
      expect(tampered.status).toBe(403);
      expect(await tampered.json()).toMatchObject({ error: { code: 'INVALID_SIGNATURE' } });
    });

    it('answers 503 when Latchkey cannot be reached', async () => {
      const down = createVerifier({ baseUrl: `http://127.0.0.1:${await freePort()}`, internalToken: INTERNAL_TOKEN });
      const call = await express({}, down);
      const key = await issueKey(latchkey, owner);
      const answer = await call('/orders', { headers: { 'x-api-key': key.secret } });
      expect(answer.status).toBe(503);
      expect(await answer.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
    });
  });

  describe('latchkeyFastify and latchkeyPreHandler', () => {
    async function fastify(register: (app: FastifyInstance) => Promise<void>, trustProxy = false) {
      const app = Fastify({ trustProxy });
      await register(app);
      await app.ready();
      fastifies.push(app);
      return app;
    }

    it('guards the routes of the scope that registers the plugin, and no others', async () => {
      const app = await fastify(async (root) => {
        await root.register(async (scope) => {
          await scope.register(latchkeyFastify, { verifier, permissions: ['orders:read'] });
          scope.post('/orders', async (request) => ({
            key_id: (request as { latchkey?: { key_id: string } }).latchkey?.key_id,
            body: request.body,
          }));
        });
        root.get('/health', async () => ({ ok: true }));
      });
      const good = await issueKey(latchkey, owner, { permissions: ['orders:read'] });
      const signing = await issueKey(latchkey, owner, { permissions: ['orders:read'], signing: true });

      const passed = await app.inject({ method: 'POST', url: '/orders', headers: { 'x-api-key': good.secret }, payload: { n: 1 } });
      expect(passed.statusCode).toBe(200);
      expect(passed.json()).toEqual({ key_id: good.id, body: { n: 1 } });

      const missing = await app.inject({ method: 'POST', url: '/orders', payload: { n: 1 } });
      expect(missing.statusCode).toBe(401);
      expect(missing.headers['www-authenticate']).toContain('error="malformed"');
      expect(missing.json()).toMatchObject({ success: false, error: { code: 'MALFORMED' } });

      // The raw bytes are signed, spacing and all, and the handler still gets the parsed body.
      const body = '{ "n": 2 }';
      const signed = signRequest({ secret: signing.secret, method: 'POST', path: '/orders', body });
      const headers = { 'content-type': 'application/json', 'x-api-key': signing.public_key!, ...signed };
      const signedPass = await app.inject({ method: 'POST', url: '/orders', headers, payload: body });
      expect(signedPass.statusCode).toBe(200);
      expect(signedPass.json()).toEqual({ key_id: signing.id, body: { n: 2 } });
      const tampered = await app.inject({ method: 'POST', url: '/orders', headers, payload: '{ "n": 3 }' });
      expect(tampered.statusCode).toBe(403);
      expect(tampered.json()).toMatchObject({ error: { code: 'INVALID_SIGNATURE' } });

      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    });

    it('as a route preHandler, takes the client address from Fastify trustProxy or its own', async () => {
      const key = await issueKey(latchkey, owner, { restrictions: { ip_allowlist: ['203.0.113.9/32'] } });
      const app = await fastify(async (root) => {
        root.get('/fastify-ip', { preHandler: latchkeyPreHandler({ verifier }) }, async () => ({ ok: true }));
        root.get('/own-ip', { preHandler: latchkeyPreHandler({ verifier, trustProxy: false }) }, async () => ({ ok: true }));
      }, true);
      const headers = { 'x-api-key': key.secret, 'x-forwarded-for': '203.0.113.9' };
      expect((await app.inject({ method: 'GET', url: '/fastify-ip', headers })).statusCode).toBe(200);
      const refused = await app.inject({ method: 'GET', url: '/own-ip', headers });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ error: { code: 'IP_NOT_ALLOWED' } });
    });
  });
});
