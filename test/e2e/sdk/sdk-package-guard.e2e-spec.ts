import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { createRequire } from 'node:module';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { VERIFY_CODES } from '@latchkey/contracts';
import { generateApiKey } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';
import { changeKey, IssuedKey, issueKey, waitFor } from '../auth-check/auth-check-helpers';
import { installPackedSdk, PackedSdk } from './packed-sdk';

const INTERNAL_TOKEN = 'i'.repeat(32);

/**
 * A Nest service guarded by the packed `@latchkey/sdk/nestjs` (CommonJS, decorators applied
 * by hand), twice: verifying over HTTP and over Redis (auth.verify). It prints the two
 * addresses as one JSON line and serves until it is sent SIGTERM.
 */
const GUARDED_SERVICE = `require('reflect-metadata');
const { Controller, Get, Req } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { LatchkeyModule, RequireKey } = require('@latchkey/sdk/nestjs');

class Orders {
  list(request) { return { key_id: request.latchkey.key_id }; }
  live(request) { return { key_id: request.latchkey.key_id }; }
}
Controller()(Orders);
for (const [name, path, requirement] of [['list', 'orders', { permissions: ['payments:read'] }], ['live', 'live-orders', { environment: 'live' }]]) {
  const method = Object.getOwnPropertyDescriptor(Orders.prototype, name);
  Req()(Orders.prototype, name, 0);
  Get(path)(Orders.prototype, name, method);
  RequireKey(requirement)(Orders.prototype, name, method);
}

async function main() {
  const input = JSON.parse(process.env.SDK_INPUT);
  const apps = [];
  const urls = {};
  for (const [transport, options] of Object.entries(input.verifiers)) {
    class ConsumerModule {}
    const module = { module: ConsumerModule, imports: [LatchkeyModule.forRoot(options)], controllers: [Orders] };
    const app = await NestFactory.create(module, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    apps.push(app);
    urls[transport] = await app.getUrl();
  }
  process.on('SIGTERM', async () => {
    for (const app of apps) await app.close();
    process.exit(0);
  });
  process.stdout.write(JSON.stringify(urls) + '\\n');
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

/** The packed SDK's CommonJS entry, loaded by Node from the scratch project (not through Jest's module registry). */
interface PackedEntry {
  verifyWebhook(input: { payload: string; headers: Record<string, string>; secret?: string; secrets?: string[]; nowSeconds?: number }): {
    id: string;
    type: string;
  };
  WebhookVerificationError: new (...args: never[]) => Error & { reason: string };
  signRequest(input: { secret: string; method: string; path: string; body?: string }): Record<string, string>;
  Latchkey: new (options: { baseUrl: string; token: string }) => any;
  LatchkeyError: new (...args: never[]) => Error;
}

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A subscriber on 127.0.0.1 keeping every delivery as it arrived, raw body and headers. */
async function startReceiver(): Promise<{ server: Server; url: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, deliveries };
}

function signatureHeaders(delivery: Delivery): Record<string, string> {
  return Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(delivery.headers[name])]));
}

describe('@latchkey/sdk, packed: the Nest guard on every verdict, webhooks and management keys', () => {
  let sut: TestApp;
  let owner: UserSession;
  let packed: PackedSdk | undefined;
  let sdk: PackedEntry;
  let service: ChildProcessWithoutNullStreams | undefined;
  let urls: Record<'http' | 'redis', string>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let stopped = false;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { INTERNAL_TOKEN, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
    owner = await signUp(sut);
    receiver = await startReceiver();
    packed = await installPackedSdk({ prefix: 'latchkey-sdk-guard-', borrow: ['ioredis', '@nestjs', 'reflect-metadata'] });
    sdk = createRequire(join(packed.dir, 'package.json'))('@latchkey/sdk') as PackedEntry;

    await writeFile(join(packed.dir, 'guarded-service.cjs'), GUARDED_SERVICE);
    const verifiers = {
      http: { baseUrl: sut.baseUrl, internalToken: INTERNAL_TOKEN },
      redis: { redis: { url: sut.config.REDIS_URL, prefix: sut.config.REDIS_PREFIX }, internalToken: INTERNAL_TOKEN, timeoutMs: 3_000 },
    };
    const child = spawn(process.execPath, ['guarded-service.cjs'], {
      cwd: packed.dir,
      env: { ...process.env, SDK_INPUT: JSON.stringify({ verifiers }) },
    });
    service = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitUntil(
      () => stdout.includes('\n') || child.exitCode !== null,
      60_000,
      () => `the guarded service to listen (${stderr})`,
    );
    if (child.exitCode !== null) throw new Error(`the guarded service failed: ${stderr}`);
    urls = JSON.parse(stdout.split('\n')[0]);
  }, 240_000);

  afterAll(async () => {
    if (service && service.exitCode === null) {
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      await exited;
    }
    receiver?.server.closeAllConnections();
    receiver?.server.close();
    if (!stopped) await sut?.close();
    await packed?.remove();
  });

  async function call(transport: 'http' | 'redis', path: string, headers: Record<string, string> = {}) {
    const answer = await fetch(`${urls[transport]}${path}`, { headers });
    const text = await answer.text();
    return { status: answer.status, headers: answer.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** Waits until Latchkey itself says `code` for the key: a key change reaches auth-check's cache asynchronously. */
  async function untilVerdict(secret: string, code: string): Promise<void> {
    const { value } = await waitFor(
      () => sut.post('/v1/verify', { body: { key: secret }, headers: { 'x-internal-token': INTERNAL_TOKEN } }),
      (answer) => answer.body?.data?.code === code,
      10_000,
      50,
    );
    expect(value.body.data.code).toBe(code);
  }

  const issue = (body: Record<string, unknown> = {}) => issueKey(sut, owner, { permissions: ['payments:read'], ...body });

  describe.each(['http', 'redis'] as const)('the guard verifying over %s', (transport) => {
    it('passes a good key and a correctly signed request, with the verdict on the request', async () => {
      const good = await issue();
      expect(await call(transport, '/orders', { authorization: `Bearer ${good.secret}` })).toMatchObject({
        status: 200,
        body: { key_id: good.id },
      });
      const signing = await issue({ signing: true });
      const signed = sdk.signRequest({ secret: signing.secret, method: 'GET', path: '/orders' });
      expect(await call(transport, '/orders', { 'x-api-key': signing.public_key!, ...signed })).toMatchObject({
        status: 200,
        body: { key_id: signing.id },
      });
      const fromShop = await issue({ restrictions: { referrers: ['https://shop.example.com'] } });
      expect(await call(transport, '/orders', { 'x-api-key': fromShop.secret, referer: 'https://shop.example.com/cart' })).toMatchObject({
        status: 200,
        body: { key_id: fromShop.id },
      });
    });

    it('answers every refusing verdict with its status, code and headers', async () => {
      const issued: Record<string, IssuedKey> = {
        disabled: await issue(),
        expired: await issue({ expires_at: new Date(Date.now() + 2_000).toISOString() }),
        revoked: await issue(),
        good: await issue(),
        outsideIps: await issue({ restrictions: { ip_allowlist: ['203.0.113.0/24'] } }),
        fromShop: await issue({ restrictions: { referrers: ['https://shop.example.com'] } }),
        invoicesOnly: await issue({ restrictions: { endpoints: [{ method: 'GET', path: '/invoices/*' }] } }),
        narrow: await issue({ permissions: ['users:read'] }),
        rateLimited: await issue({ rate_limit: { limit: 1, window_seconds: 60 } }),
        quota: await issue({ quota: { limit: 1, period: 'day' } }),
        signing: await issue({ signing: true }),
      };
      await changeKey(sut, owner, issued.disabled.id, 'disable');
      await changeKey(sut, owner, issued.revoked.id, 'revoke');
      await untilVerdict(issued.disabled.secret, 'DISABLED');
      await untilVerdict(issued.revoked.secret, 'REVOKED');
      await untilVerdict(issued.expired.secret, 'EXPIRED');
      // The one call each limit allows.
      expect((await call(transport, '/orders', { 'x-api-key': issued.rateLimited.secret })).status).toBe(200);
      expect((await call(transport, '/orders', { 'x-api-key': issued.quota.secret })).status).toBe(200);
      const good = issued.good.secret;
      const malformed = `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`;
      const wrongSecret = sdk.signRequest({ secret: issued.good.secret, method: 'GET', path: '/orders' });

      const cases: Array<[string, string, Record<string, string>, number, string]> = [
        ['no key at all', '/orders', {}, 401, 'MALFORMED'],
        ['a key failing its checksum', '/orders', { 'x-api-key': malformed }, 401, 'MALFORMED'],
        ['a well-formed key never issued', '/orders', { 'x-api-key': generateApiKey('test') }, 401, 'NOT_FOUND'],
        ['a disabled key', '/orders', { 'x-api-key': issued.disabled.secret }, 401, 'DISABLED'],
        ['an expired key', '/orders', { 'x-api-key': issued.expired.secret }, 401, 'EXPIRED'],
        ['a revoked key', '/orders', { 'x-api-key': issued.revoked.secret }, 401, 'REVOKED'],
        ['a test key on a live route', '/live-orders', { 'x-api-key': good }, 403, 'WRONG_ENVIRONMENT'],
        ['a key from outside its IP allowlist', '/orders', { 'x-api-key': issued.outsideIps.secret }, 403, 'IP_NOT_ALLOWED'],
        [
          'a key from another referrer',
          '/orders',
          { 'x-api-key': issued.fromShop.secret, referer: 'https://evil.example.org/' },
          403,
          'REFERRER_NOT_ALLOWED',
        ],
        ['a key without a referrer its restriction needs', '/orders', { 'x-api-key': issued.fromShop.secret }, 403, 'REFERRER_NOT_ALLOWED'],
        ['a key on an endpoint it may not call', '/orders', { 'x-api-key': issued.invoicesOnly.secret }, 403, 'ENDPOINT_NOT_ALLOWED'],
        ['a key without the permission', '/orders', { 'x-api-key': issued.narrow.secret }, 403, 'INSUFFICIENT_PERMISSIONS'],
        ['a signing key with no signature', '/orders', { 'x-api-key': issued.signing.public_key! }, 403, 'INVALID_SIGNATURE'],
        [
          'a signing key signed with another secret',
          '/orders',
          { 'x-api-key': issued.signing.public_key!, ...wrongSecret },
          403,
          'INVALID_SIGNATURE',
        ],
        ['a key over its rate limit', '/orders', { 'x-api-key': issued.rateLimited.secret }, 429, 'RATE_LIMITED'],
        ['a key over its quota', '/orders', { 'x-api-key': issued.quota.secret }, 429, 'QUOTA_EXCEEDED'],
      ];
      const seen: string[] = [];
      for (const [what, path, headers, status, code] of cases) {
        const before = Date.now();
        const answer = await call(transport, path, headers);
        const after = Date.now();
        expect({ what, status: answer.status, body: answer.body }).toEqual({
          what,
          status,
          body: { success: false, error: { code, message: expect.any(String), details: [] } },
        });
        expect({ what, wwwAuthenticate: answer.headers.get('www-authenticate') }).toEqual({
          what,
          wwwAuthenticate: status === 401 ? `ApiKey realm="latchkey", error="${code.toLowerCase()}"` : null,
        });
        if (code === 'RATE_LIMITED') {
          expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          expect(Number(answer.headers.get('retry-after'))).toBeLessThanOrEqual(60);
          expect(answer.headers.get('ratelimit-limit')).toBe('1');
          expect(answer.headers.get('ratelimit-remaining')).toBe('0');
        } else if (code === 'QUOTA_EXCEEDED') {
          // A day quota refills at the next UTC midnight: Retry-After counts the seconds to it, from quota.reset_at.
          const secondsToMidnight = (from: number, at: number) => {
            const day = new Date(from);
            return Math.ceil((Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1) - at) / 1000);
          };
          const retryAfter = Number(answer.headers.get('retry-after'));
          expect(retryAfter).toBeGreaterThanOrEqual(Math.max(1, secondsToMidnight(before, after)));
          expect(retryAfter).toBeLessThanOrEqual(secondsToMidnight(after, before));
          expect(answer.headers.get('ratelimit-limit')).toBeNull();
        } else {
          expect({ what, retryAfter: answer.headers.get('retry-after') }).toEqual({ what, retryAfter: null });
        }
        seen.push(code);
      }
      // Every refusing code Latchkey has is among the cases.
      expect([...new Set(seen)].sort()).toEqual(VERIFY_CODES.filter((code) => code !== 'VALID').sort());
    }, 60_000);
  });

  describe('verifyWebhook on deliveries Latchkey sends', () => {
    it('verifies each delivery, with either secret during a rotation and never with one the rotation ended', async () => {
      const management = new sdk.Latchkey({ baseUrl: sut.baseUrl, token: owner.token });
      const endpoint = await management.webhooks.create({ url: receiver.url, events: ['api_key.created'], environment: 'test' });
      const first: string = endpoint.secret;
      expect(first).toMatch(/^whsec_/);

      /** Creates a key, waits for its api_key.created delivery and answers it. */
      const deliveryOfNewKey = async (): Promise<{ keyId: string; delivery: Delivery }> => {
        const key = await issue();
        let delivery: Delivery | undefined;
        await waitUntil(
          () => {
            delivery = receiver.deliveries.find((each) => (JSON.parse(each.body) as { data: { id: string } }).data.id === key.id);
            return delivery !== undefined;
          },
          10_000,
          `the api_key.created delivery of ${key.id}`,
        );
        return { keyId: key.id, delivery: delivery! };
      };
      const verify = (delivery: Delivery, secrets: string[], nowSeconds?: number) =>
        sdk.verifyWebhook({ payload: delivery.body, headers: signatureHeaders(delivery), secrets, nowSeconds });
      const refusal = (run: () => unknown): string => {
        try {
          run();
        } catch (error) {
          if (error instanceof sdk.WebhookVerificationError) return error.reason;
          throw error;
        }
        return 'accepted';
      };

      const before = await deliveryOfNewKey();
      expect(verify(before.delivery, [first])).toMatchObject({ type: 'api_key.created', data: { id: before.keyId } });

      // Rotated with the old secret still valid: deliveries carry a signature under each.
      const rotated = await management.webhooks.rotateSecret(endpoint.id);
      const second: string = rotated.secret;
      expect(second).not.toBe(first);
      expect(Date.parse(rotated.previous_secret_expires_at)).toBeGreaterThan(Date.now());
      const during = await deliveryOfNewKey();
      expect(String(during.delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verify(during.delivery, [first]).id).toBe(during.delivery.headers['webhook-id']);
      expect(verify(during.delivery, [second]).id).toBe(during.delivery.headers['webhook-id']);
      expect(verify(during.delivery, [second, first])).toMatchObject({ data: { id: during.keyId } });

      // Rotating again ends the first secret at once (only one previous secret is kept).
      const third: string = (await management.webhooks.rotateSecret(endpoint.id)).secret;
      const after = await deliveryOfNewKey();
      expect(refusal(() => verify(after.delivery, [first]))).toBe('no_matching_signature');
      expect(verify(after.delivery, [third])).toMatchObject({ data: { id: after.keyId } });
      expect(verify(after.delivery, [second]).id).toBe(after.delivery.headers['webhook-id']);

      // A body changed on the way, and a delivery replayed ten minutes later, are refused.
      const tampered = { ...after.delivery, body: after.delivery.body.replace(after.keyId, before.keyId) };
      expect(tampered.body).not.toBe(after.delivery.body);
      expect(refusal(() => verify(tampered, [third, second]))).toBe('no_matching_signature');
      const sentAt = Number(after.delivery.headers['webhook-timestamp']);
      expect(refusal(() => verify(after.delivery, [third], sentAt + 600))).toBe('stale_timestamp');
      expect(verify(after.delivery, [third], sentAt + 60).id).toBe(after.delivery.headers['webhook-id']);
    }, 60_000);
  });

  describe('the packed management client with a management key', () => {
    it('stops at the key’s role, and a revoked key gets 401', async () => {
      const session = new sdk.Latchkey({ baseUrl: sut.baseUrl, token: owner.token });
      const developer = await session.managementKeys.create({ name: 'CI', role: 'developer' });
      const viewer = await session.managementKeys.create({ name: 'dashboards', role: 'viewer' });
      const asDeveloper = new sdk.Latchkey({ baseUrl: sut.baseUrl, token: developer.token });
      const asViewer = new sdk.Latchkey({ baseUrl: sut.baseUrl, token: viewer.token });
      const failure = async (run: () => Promise<unknown>) => {
        try {
          await run();
        } catch (error) {
          if (!(error instanceof sdk.LatchkeyError)) throw error;
          const { name, status, code } = error as Error & { status: number; code: string };
          return { name, status, code };
        }
        return 'accepted';
      };

      // A developer key creates keys and manages its own, not an admin's, and mints no management key.
      const own = await asDeveloper.keys.create({ name: 'from CI', environment: 'test', signing: false });
      expect(own.created_by).toBe(developer.id);
      expect((await asDeveloper.keys.revoke(own.id)).status).toBe('revoked');
      const ownersKey = await issue();
      expect(await failure(() => asDeveloper.keys.revoke(ownersKey.id))).toEqual({
        name: 'LatchkeyPermissionError',
        status: 403,
        code: 'INSUFFICIENT_ROLE',
      });
      expect(await failure(() => asDeveloper.managementKeys.create({ name: 'minted', role: 'viewer' }))).toEqual({
        name: 'LatchkeyPermissionError',
        status: 403,
        code: 'SESSION_REQUIRED',
      });
      // A viewer key reads and creates nothing.
      expect(await failure(() => asViewer.keys.create({ name: 'no', environment: 'test', signing: false }))).toEqual({
        name: 'LatchkeyPermissionError',
        status: 403,
        code: 'INSUFFICIENT_ROLE',
      });
      expect((await asViewer.keys.list({ limit: 1 })).data.length).toBe(1);

      await session.managementKeys.revoke(developer.id);
      expect(await failure(() => asDeveloper.keys.list({ limit: 1 }))).toEqual({
        name: 'LatchkeyAuthenticationError',
        status: 401,
        code: 'UNAUTHENTICATED',
      });
      const listed = await session.managementKeys.list({ limit: 100 });
      expect(listed.data.find((key: { id: string }) => key.id === developer.id)).toMatchObject({ status: 'revoked' });
    });
  });

  describe('when Latchkey is stopped', () => {
    it('answers 503 over HTTP and over Redis, and still refuses a malformed key offline', async () => {
      const key = await issue();
      expect((await call('http', '/orders', { 'x-api-key': key.secret })).status).toBe(200);
      expect((await call('redis', '/orders', { 'x-api-key': key.secret })).status).toBe(200);
      stopped = true;
      await sut.close();
      for (const transport of ['http', 'redis'] as const) {
        const answer = await call(transport, '/orders', { 'x-api-key': key.secret });
        expect({ transport, status: answer.status, body: answer.body }).toEqual({
          transport,
          status: 503,
          body: { success: false, error: { code: 'SERVICE_UNAVAILABLE', message: expect.any(String), details: [] } },
        });
        expect(answer.headers.get('www-authenticate')).toBeNull();
        const malformed = await call(transport, '/orders', { 'x-api-key': 'sk_test_nope' });
        expect({ transport, status: malformed.status, code: malformed.body.error.code }).toEqual({
          transport,
          status: 401,
          code: 'MALFORMED',
        });
      }
    }, 30_000);
  });
});
