import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { generateApiKey, webhookHeaders } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { freePort } from '../../support/free-port';
import { changeKey, issueKey, waitFor } from '../auth-check/auth-check-helpers';
import { AnswerLosingProxy } from './answer-losing-proxy';
import { installPackedSdk, PackedSdk, REPO, run } from './packed-sdk';

const INTERNAL_TOKEN = 'i'.repeat(32);

/**
 * The consumer's side of the SDK, as a new user runs it: a scratch project with the
 * packed tarball installed (offline: it has no dependencies), an ES module importing
 * `@latchkey/sdk` by its name. It prints what it saw as JSON for the test to judge.
 */
const CONSUMER = `
import {
  createVerifier, Latchkey, LatchkeyError, LatchkeyNotFoundError, LatchkeyUnavailableError, LatchkeyAuthenticationError,
  verifyWebhook, WebhookVerificationError,
} from '@latchkey/sdk';

const input = JSON.parse(process.env.SDK_INPUT);
const out = {};
const describe = (error) => ({
  name: error.name, status: error.status, code: error.code, reason: error.reason, requestId: error.requestId,
  latchkeyError: error instanceof LatchkeyError, unavailable: error instanceof LatchkeyUnavailableError,
});
const attempt = async (run) => { try { return { answered: await run() }; } catch (error) { return { threw: describe(error) }; } };

// The verifier over HTTP.
const http = createVerifier({ baseUrl: input.baseUrl, internalToken: input.internalToken });
out.httpValid = await http.verify({ key: input.validKey, permissions: ['payments:read'], ip: '203.0.113.9', method: 'GET', path: '/v1/orders', cost: 1 });
out.httpRevoked = await http.verify({ key: input.revokedKey });
out.httpUnknown = await http.verify({ key: input.unknownKey });
out.httpMalformed = await http.verify({ key: input.malformedKey });
out.wrongToken = await attempt(() => createVerifier({ baseUrl: input.baseUrl, internalToken: 'wrong' }).verify({ key: input.validKey }));
const down = createVerifier({ baseUrl: input.deadUrl, internalToken: input.internalToken, timeoutMs: 2000 });
out.down = await attempt(() => down.verify({ key: input.validKey }));
const failedOpen = await down.verify({ key: input.validKey, failOpen: true });
out.failedOpen = { ...failedOpen, error: failedOpen.error?.name };

// The verifier over Redis (auth.verify), ioredis resolved from the scratch project.
const redis = createVerifier({ redis: { url: input.redisUrl, prefix: input.redisPrefix }, internalToken: input.internalToken, timeoutMs: 5000 });
out.redisValid = await redis.verify({ key: input.validKey, permissions: ['payments:read'] });
out.redisRevoked = await redis.verify({ key: input.revokedKey });
out.redisMalformed = await redis.verify({ key: input.malformedKey });
await redis.close();

// The management client: the create goes through a proxy that loses its answer once.
const proxied = new Latchkey({ baseUrl: input.proxyUrl, token: input.token, retry: { baseDelayMs: 20 } });
const created = await proxied.keys.create({ name: input.keyName, environment: 'test', signing: false, permissions: ['orders:read'] });
out.created = { id: created.id, secret: created.secret, name: created.name };
const latchkey = new Latchkey({ baseUrl: input.baseUrl, token: input.token });
out.listed = [];
for await (const key of latchkey.keys.list({ limit: 1 })) out.listed.push(key.id);
out.firstPage = await latchkey.keys.list({ limit: 1 }).then((page) => ({ size: page.data.length, hasMore: page.hasMore }));
const rolled = await latchkey.keys.roll(created.id, { expire_old_in_seconds: 0 });
out.rolled = { id: rolled.id, secret: rolled.secret };
out.rolledVerdict = await http.verify({ key: rolled.secret });
out.revoked = (await latchkey.keys.revoke(created.id)).status;
out.notFound = await attempt(() => latchkey.keys.get('key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I'));

// Webhooks: a delivery signed by the server's signer, during a secret rotation.
const { payload, headers, secrets } = input.webhook;
out.webhookEvent = verifyWebhook({ payload, headers, secrets });
out.webhookNewSecretOnly = verifyWebhook({ payload, headers, secret: secrets[0] }).id;
try {
  verifyWebhook({ payload: payload.replace('key_', 'kex_'), headers, secrets });
  out.webhookTampered = 'accepted';
} catch (error) {
  out.webhookTampered = error instanceof WebhookVerificationError ? error.reason : String(error);
}
process.stdout.write(JSON.stringify(out));
`;

/** A TypeScript consumer: the published .d.ts files type-check (with skipLibCheck off) and type the REST calls. */
const TS_CHECK = `import { createVerifier, Latchkey, type Verdict } from '@latchkey/sdk';
import { Latchkey as BrowserLatchkey } from '@latchkey/sdk/management';

const latchkey = new Latchkey({ baseUrl: 'http://127.0.0.1:1', token: 't' });
export async function main(): Promise<void> {
  const key = await latchkey.keys.create({ name: 'n', environment: 'test', signing: false });
  const secret: string = key.secret;
  for await (const each of latchkey.keys.list({ status: 'active' })) console.log(each.id.toUpperCase());
  const verdict: Verdict = await createVerifier({ baseUrl: 'http://127.0.0.1:1' }).verify({ key: secret });
  if (verdict.valid) console.log(verdict.org_id.toUpperCase());
  // @ts-expect-error an environment is test or live
  await latchkey.keys.create({ name: 'n', environment: 'prod', signing: false });
  console.log(new BrowserLatchkey({ baseUrl: 'x' }).keys);
}
`;

/**
 * A Nest service guarded by the packed `@latchkey/sdk/nestjs` (CommonJS, decorators applied
 * by hand since plain JavaScript has no decorator syntax), asked once per key it is given.
 */
const NEST_CONSUMER = `require('reflect-metadata');
const { Controller, Get, Req } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { LatchkeyModule, RequireKey } = require('@latchkey/sdk/nestjs');

class Orders {
  list(request) {
    return { key_id: request.latchkey.key_id };
  }
}
Controller('orders')(Orders);
const method = Object.getOwnPropertyDescriptor(Orders.prototype, 'list');
Req()(Orders.prototype, 'list', 0);
Get()(Orders.prototype, 'list', method);
RequireKey({ permissions: ['payments:read'] })(Orders.prototype, 'list', method);

async function main() {
  const input = JSON.parse(process.env.SDK_INPUT);
  const out = {};
  for (const [name, baseUrl] of [['up', input.baseUrl], ['down', input.deadUrl]]) {
    class ConsumerModule {}
    const module = { module: ConsumerModule, imports: [LatchkeyModule.forRoot({ baseUrl, internalToken: input.internalToken })], controllers: [Orders] };
    const app = await NestFactory.create(module, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    for (const [label, key] of Object.entries(input.keys)) {
      const answer = await fetch(url + '/orders', { headers: { 'x-api-key': key } });
      out[name + ':' + label] = { status: answer.status, body: await answer.json(), wwwAuthenticate: answer.headers.get('www-authenticate') };
    }
    await app.close();
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

/** The CommonJS entry, required by name, exports the same things. */
const CJS_CHECK = `const sdk = require('@latchkey/sdk');
const management = require('@latchkey/sdk/management');
const nestjs = require('@latchkey/sdk/nestjs');
const express = require('@latchkey/sdk/express');
const fastify = require('@latchkey/sdk/fastify');
const keys = (entry) => Object.keys(entry).sort();
process.stdout.write(JSON.stringify({ sdk: keys(sdk), management: keys(management), nestjs: keys(nestjs), express: keys(express), fastify: keys(fastify) }));`;

describe('@latchkey/sdk, packed and installed in a fresh project', () => {
  let sut: TestApp;
  let owner: UserSession;
  let scratch: string;
  let packed: PackedSdk | undefined;
  let proxy: AnswerLosingProxy;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { INTERNAL_TOKEN } });
    owner = await signUp(sut);
    proxy = await AnswerLosingProxy.start(Number(new URL(sut.baseUrl).port));
    // ioredis is an optional peer: a consumer using the Redis verifier installs it; here it is the repo's copy.
    // Likewise Nest (an optional peer of @latchkey/sdk/nestjs) and what a Nest app loads first.
    packed = await installPackedSdk({ borrow: ['ioredis', '@nestjs', 'reflect-metadata'] });
    scratch = packed.dir;
  }, 180_000);

  afterAll(async () => {
    await proxy?.close();
    await sut?.close();
    await packed?.remove();
  });

  it('installed from the tarball, depends on no unpublished package and bundles no monorepo import', async () => {
    const manifest = JSON.parse(await readFile(join(scratch, 'node_modules', '@latchkey', 'sdk', 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: '@latchkey/sdk', version: '0.1.0', license: 'MIT', engines: { node: '>=20' } });
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.peerDependenciesMeta).toEqual({
      ioredis: { optional: true },
      '@nestjs/common': { optional: true },
      '@nestjs/core': { optional: true },
    });
    for (const file of [
      'index.mjs',
      'index.cjs',
      'index.d.ts',
      'index.d.mts',
      'management.mjs',
      'management.cjs',
      'nestjs.mjs',
      'nestjs.cjs',
    ]) {
      const text = await readFile(join(scratch, 'node_modules', '@latchkey', 'sdk', 'dist', file), 'utf8');
      expect(text).not.toMatch(/(?:from\s*|require\(|import\()\s*['"]@latchkey\//);
    }
    const browserSafe = await readFile(join(scratch, 'node_modules', '@latchkey', 'sdk', 'dist', 'management.mjs'), 'utf8');
    expect(browserSafe).not.toMatch(/from\s*['"](?:node:)?(?:crypto|zlib|os)['"]|ioredis/);
    await writeFile(join(scratch, 'check.cjs'), CJS_CHECK);
    const { stdout } = await run(process.execPath, ['check.cjs'], { cwd: scratch });
    const exported = JSON.parse(stdout);
    expect(exported.sdk).toEqual(
      expect.arrayContaining(['Latchkey', 'createVerifier', 'verifyWebhook', 'signRequest', 'extractKey', 'LatchkeyError']),
    );
    expect(exported.management).toEqual(expect.arrayContaining(['Latchkey', 'LatchkeyError', 'PageList']));
    expect(exported.management).not.toContain('createVerifier');
    expect(exported.nestjs).toEqual(expect.arrayContaining(['LatchkeyModule', 'LatchkeyGuard', 'RequireKey', 'CurrentKey', 'SkipKey']));
    // The framework adapters load where neither Express nor Fastify is installed.
    expect(exported.express).toEqual(['latchkeyExpress']);
    expect(exported.fastify).toEqual(['latchkeyFastify', 'latchkeyPreHandler']);

    await writeFile(join(scratch, 'check.ts'), TS_CHECK);
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const types = join(REPO, 'node_modules', '@types');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
    await run(process.execPath, [tsc, ...flags, '--typeRoots', types, '--types', 'node', 'check.ts'], { cwd: scratch }).catch(
      (error: Error & { stdout?: string }) => {
        throw new Error(`the TypeScript consumer does not compile: ${error.stdout ?? error.message}`);
      },
    );
  }, 60_000);

  it("guards a Nest service with the packed build's LatchkeyGuard: 200, 401, 403, and 503 when Latchkey is gone", async () => {
    const valid = await issueKey(sut, owner, { permissions: ['payments:read'] });
    const narrow = await issueKey(sut, owner, { permissions: ['users:read'] });
    await writeFile(join(scratch, 'nest-consumer.cjs'), NEST_CONSUMER);
    const { stdout } = await run(process.execPath, ['nest-consumer.cjs'], {
      cwd: scratch,
      env: {
        ...process.env,
        SDK_INPUT: JSON.stringify({
          baseUrl: sut.baseUrl,
          deadUrl: `http://127.0.0.1:${await freePort()}`,
          internalToken: INTERNAL_TOKEN,
          keys: { valid: valid.secret, narrow: narrow.secret, malformed: 'sk_live_nope' },
        }),
      },
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`the Nest consumer failed: ${error.stderr ?? error.message}`);
    });
    const out = JSON.parse(stdout);
    expect(out['up:valid']).toMatchObject({ status: 200, body: { key_id: valid.id } });
    expect(out['up:narrow']).toMatchObject({ status: 403, body: { error: { code: 'INSUFFICIENT_PERMISSIONS' } } });
    expect(out['up:malformed']).toMatchObject({ status: 401, body: { error: { code: 'MALFORMED' } } });
    expect(out['up:malformed'].wwwAuthenticate).toContain('ApiKey');
    // Latchkey unreachable: a well-formed key gets 503, and a malformed one is still refused offline.
    expect(out['down:valid']).toMatchObject({ status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE' } } });
    expect(out['down:narrow'].status).toBe(503);
    expect(out['down:malformed'].status).toBe(401);
  }, 60_000);

  it('verifies over HTTP and Redis, fails closed when Latchkey is gone, and manages keys through a lost answer', async () => {
    const valid = await issueKey(sut, owner, { permissions: ['payments:*'], metadata: { plan: 'gold' } });
    const revoked = await issueKey(sut, owner);
    await changeKey(sut, owner, revoked.id, 'revoke');
    await waitFor(
      () => sut.post('/v1/verify', { body: { key: revoked.secret }, headers: { 'x-internal-token': INTERNAL_TOKEN } }),
      (answer) => answer.body?.data?.code === 'REVOKED',
      5_000,
      20,
    );
    const unknown = generateApiKey('test'); // well-formed, never issued
    const secrets = [`whsec_${randomBytes(24).toString('base64')}`, `whsec_${randomBytes(24).toString('base64')}`];
    const event = {
      id: 'evt_01JD2Z6K3S9Q4W8E7R5T1Y0U2I',
      type: 'api_key.created',
      created_at: new Date().toISOString(),
      org_id: owner.orgId,
      environment: 'test',
      data: { key_id: valid.id },
    };
    const payload = JSON.stringify(event);
    const keyName = `sdk-${randomBytes(4).toString('hex')}`;
    proxy.loseNextAnswers(1);

    await writeFile(join(scratch, 'consumer.mjs'), CONSUMER);
    const { stdout } = await run(process.execPath, ['consumer.mjs'], {
      cwd: scratch,
      env: {
        ...process.env,
        SDK_INPUT: JSON.stringify({
          baseUrl: sut.baseUrl,
          proxyUrl: `http://127.0.0.1:${proxy.port}`,
          deadUrl: `http://127.0.0.1:${await freePort()}`,
          internalToken: INTERNAL_TOKEN,
          token: owner.token,
          validKey: valid.secret,
          revokedKey: revoked.secret,
          unknownKey: unknown,
          malformedKey: `${valid.secret.slice(0, -1)}${valid.secret.endsWith('0') ? '1' : '0'}`,
          redisUrl: sut.config.REDIS_URL,
          redisPrefix: sut.config.REDIS_PREFIX,
          keyName,
          webhook: { payload, headers: webhookHeaders(event.id, payload, [secrets[1], secrets[0]]), secrets },
        }),
      },
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`the consumer failed: ${error.stderr ?? error.message}`);
    });
    const out = JSON.parse(stdout);

    expect(out.httpValid).toMatchObject({
      valid: true,
      code: 'VALID',
      key_id: valid.id,
      org_id: owner.orgId,
      permissions: ['payments:*'],
      metadata: { plan: 'gold' },
    });
    expect(out.httpRevoked).toEqual({ valid: false, code: 'REVOKED' });
    expect(out.httpUnknown).toEqual({ valid: false, code: 'NOT_FOUND' });
    expect(out.httpMalformed).toEqual({ valid: false, code: 'MALFORMED' });
    expect(out.wrongToken.threw).toMatchObject({
      name: 'LatchkeyAuthenticationError',
      status: 401,
      code: 'UNAUTHENTICATED',
      unavailable: false,
    });
    expect(out.down.threw).toMatchObject({
      name: 'LatchkeyUnavailableError',
      status: 503,
      reason: 'connection',
      unavailable: true,
      latchkeyError: true,
    });
    expect(out.failedOpen).toEqual({ valid: true, code: 'VALID', failed_open: true, degraded: true, error: 'LatchkeyUnavailableError' });

    expect(out.redisValid).toEqual({ ...out.httpValid, quota: out.redisValid.quota, rate_limit: out.redisValid.rate_limit });
    expect(out.redisRevoked).toEqual({ valid: false, code: 'REVOKED' });
    expect(out.redisMalformed).toEqual({ valid: false, code: 'MALFORMED' });

    // The create's answer was lost once and retried with the same Idempotency-Key: one key, not two.
    expect(proxy.lost).toBe(1);
    const named = await sut.get('/v1/api-keys', { token: owner.token, query: { search: keyName, limit: '100' } });
    expect(named.body.data.map((key: { id: string }) => key.id)).toEqual([out.created.id]);
    expect(out.created.secret).toMatch(/^sk_test_/);
    const allKeys = await sut.get('/v1/api-keys', { token: owner.token, query: { limit: '100' } });
    expect([...out.listed].sort()).toEqual(allKeys.body.data.map((key: { id: string }) => key.id).sort());
    expect(out.listed.length).toBeGreaterThan(1); // iterated past the first one-item page
    expect(out.firstPage).toEqual({ size: 1, hasMore: true });
    expect(out.rolled.id).toBe(out.created.id);
    expect(out.rolled.secret).not.toBe(out.created.secret);
    expect(out.rolledVerdict).toMatchObject({ valid: true, key_id: out.created.id });
    expect(out.revoked).toBe('revoked');
    expect(out.notFound.threw).toMatchObject({ name: 'LatchkeyNotFoundError', status: 404, code: 'NOT_FOUND', latchkeyError: true });
    expect(out.notFound.threw.requestId).toMatch(/^req_/);

    expect(out.webhookEvent).toEqual(event);
    expect(out.webhookNewSecretOnly).toBe(event.id);
    expect(out.webhookTampered).toBe('no_matching_signature');
  }, 120_000);
});
