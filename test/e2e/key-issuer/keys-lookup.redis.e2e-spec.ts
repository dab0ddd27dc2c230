import { randomBytes } from 'node:crypto';

import { MikroORM } from '@mikro-orm/core';

import { KeyRecord, KeysPattern } from '@latchkey/contracts';
import { ApiKeyKind, generateApiKey, hmacSha256Hex, SecretBox } from '@latchkey/crypto';
import { ApiKey, Organization } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';
import { AppError, RpcClient } from '@latchkey/platform';
import { RedisRpcCaller } from '@latchkey/redis-rpc';

import { TestApp } from '../../support/create-test-app';
import { insertApiKey, InsertedApiKey } from '../../support/factories';
import { rpcCall, rpcCaller } from '../../support/rpc-caller';

/** Long enough for a loaded machine, short enough that a hang fails the test rather than the suite. */
const REPLY_WITHIN_MS = 5_000;
const HOUR_MS = 3_600_000;

type ErrorReply = { code: string; message: string; details?: { field?: string }[] };

describe('key-issuer over the Redis transport (keys.lookup, keys.get)', () => {
  let sut: TestApp;
  let client: RedisRpcCaller;
  let org: Organization;
  let box: SecretBox;

  beforeAll(async () => {
    sut = await TestApp.start();
    // A separate client, as auth-check would build it from the same configuration.
    client = rpcCaller(sut.config);
    box = new SecretBox(sut.config.ENCRYPTION_KEY);
    const em = sut.app.get(MikroORM).em.fork();
    org = em.create(Organization, { name: 'Lookup Ltd' });
    await em.flush();
  });

  afterAll(async () => {
    await client.close();
    await sut.close();
  });

  function send<T>(pattern: string, payload: unknown): Promise<T> {
    return rpcCall<T>(client, pattern, payload, REPLY_WITHIN_MS);
  }

  async function errorOf(pattern: string, payload: unknown): Promise<ErrorReply> {
    try {
      const reply = await send(pattern, payload);
      throw new Error(`expected an error, got ${JSON.stringify(reply)}`);
    } catch (error) {
      return error as ErrorReply;
    }
  }

  const hashOf = (secret: string) => hmacSha256Hex(sut.config.KEY_HASH_SECRET, secret);

  /** A key row as the key service writes it; a signing key also gets a public key and its sealed signing secret. */
  async function insertKey(fields: Partial<ApiKey> & { signingSecret?: string } = {}): Promise<InsertedApiKey> {
    const { signingSecret, ...rest } = fields;
    const inserted = await insertApiKey(sut, org.id, { name: 'lookup test key', ...rest });
    if (signingSecret !== undefined) {
      const { key } = inserted;
      key.publicKey = generateApiKey(key.environment, ApiKeyKind.Public);
      key.signingSecretSealed = box.seal(signingSecret, key.id);
      await sut.app
        .get(MikroORM)
        .em.fork()
        .nativeUpdate(ApiKey, { id: key.id }, { publicKey: key.publicKey, signingSecretSealed: key.signingSecretSealed });
    }
    return inserted;
  }

  describe(KeysPattern.Lookup, () => {
    it('finds a key by the hash of its current secret, with every field auth-check needs', async () => {
      const { key, hash } = await insertKey({
        environment: 'live',
        permissions: ['payments:read', 'payments:write'],
        restrictions: {
          ip_allowlist: ['10.0.0.0/8', '2001:db8::/32'],
          referrers: ['https://*.example.com'],
          endpoints: [{ method: 'GET', path: '/v1/payments/*' }],
        },
        rateLimit: { limit: 100, window_seconds: 60 },
        quota: { limit: 1000, period: 'month' },
        metadata: { currency: 'fiat', tier: 3 },
        ownerId: 'cus_42',
        expiresAt: new Date(Date.now() + 30 * 24 * HOUR_MS),
      });
      const reply = await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: hash });
      expect(reply).toEqual({
        id: key.id,
        name: 'lookup test key',
        owner_id: 'cus_42',
        org_id: org.id,
        environment: 'live',
        status: 'active',
        expires_at: key.expiresAt!.toISOString(),
        disabled_at: null,
        revoked_at: null,
        permissions: ['payments:read', 'payments:write'],
        restrictions: {
          ip_allowlist: ['10.0.0.0/8', '2001:db8::/32'],
          referrers: ['https://*.example.com'],
          endpoints: [{ method: 'GET', path: '/v1/payments/*' }],
        },
        rate_limit: { limit: 100, window_seconds: 60 },
        quota: { limit: 1000, period: 'month' },
        metadata: { currency: 'fiat', tier: 3 },
        signing: false,
        public_key: null,
        signing_secret_sealed: null,
        previous_signing_secret_sealed: null,
        previous_secret_expires_at: null,
        matched: 'current',
      });
    });

    it('finds a rolled key by its previous secret while the grace lasts, and not after', async () => {
      const old = await insertKey({ previousSecretExpiresAt: new Date(Date.now() + HOUR_MS) });
      const em = sut.app.get(MikroORM).em.fork();
      // Roll: the old hash moves to previous_secret_hash, a new secret takes its place.
      const current = hashOf(generateApiKey('test'));
      await em.nativeUpdate(ApiKey, { id: old.key.id }, { previousSecretHash: old.hash, secretHash: current });

      const byPrevious = await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: old.hash });
      expect(byPrevious).toMatchObject({ id: old.key.id, matched: 'previous', status: 'active' });
      expect(byPrevious.previous_secret_expires_at).toBe(old.key.previousSecretExpiresAt!.toISOString());
      expect(await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: current })).toMatchObject({ id: old.key.id, matched: 'current' });

      await em.nativeUpdate(ApiKey, { id: old.key.id }, { previousSecretExpiresAt: new Date(Date.now() - 1_000) });
      expect(await errorOf(KeysPattern.Lookup, { secret_hash: old.hash })).toMatchObject({
        code: 'NOT_FOUND',
        message: expect.any(String),
      });
      expect(await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: current })).toMatchObject({ id: old.key.id, matched: 'current' });
    });

    it('ships the previous sealed signing secret only while its grace lasts', async () => {
      const { key, hash } = await insertKey({ signingSecret: 'whsec-new', previousSecretExpiresAt: new Date(Date.now() + HOUR_MS) });
      const em = sut.app.get(MikroORM).em.fork();
      await em.nativeUpdate(ApiKey, { id: key.id }, { previousSigningSecretSealed: box.seal('whsec-old', key.id) });
      const within = await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: hash });
      expect(box.open(within.previous_signing_secret_sealed!, key.id)).toBe('whsec-old');
      await em.nativeUpdate(ApiKey, { id: key.id }, { previousSecretExpiresAt: new Date(Date.now() - 1_000) });
      const after = await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: hash });
      expect(after.previous_signing_secret_sealed).toBeNull();
    });

    it('finds a signing key by its public key; the signing secret travels sealed and opens with ENCRYPTION_KEY', async () => {
      const { key } = await insertKey({ signingSecret: 'the-signing-secret' });
      const reply = await send<KeyRecord>(KeysPattern.Lookup, { public_key: key.publicKey });
      expect(reply).toMatchObject({ id: key.id, signing: true, public_key: key.publicKey, status: 'active' });
      expect(reply.matched).toBeUndefined();
      expect(JSON.stringify(reply)).not.toContain('the-signing-secret');
      expect(box.open(reply.signing_secret_sealed!, key.id)).toBe('the-signing-secret');
    });

    it('still finds disabled, expired and revoked keys, with their status (auth-check answers the reason)', async () => {
      const disabled = await insertKey({ disabledAt: new Date() });
      const expired = await insertKey({ expiresAt: new Date(Date.now() - 1_000) });
      const revoked = await insertKey({ revokedAt: new Date(), disabledAt: new Date() });
      expect((await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: disabled.hash })).status).toBe('disabled');
      expect((await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: expired.hash })).status).toBe('expired');
      const reply = await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: revoked.hash });
      expect(reply).toMatchObject({ status: 'revoked', revoked_at: revoked.key.revokedAt!.toISOString() });
    });

    it('answers NOT_FOUND for an unknown hash, an unknown public key and a deleted key', async () => {
      expect(await errorOf(KeysPattern.Lookup, { secret_hash: randomBytes(32).toString('hex') })).toMatchObject({ code: 'NOT_FOUND' });
      expect(await errorOf(KeysPattern.Lookup, { public_key: generateApiKey('live', ApiKeyKind.Public) })).toMatchObject({
        code: 'NOT_FOUND',
      });
      const gone = await insertKey();
      await sut.app.get(MikroORM).em.fork().nativeDelete(ApiKey, { id: gone.key.id });
      expect(await errorOf(KeysPattern.Lookup, { secret_hash: gone.hash })).toMatchObject({ code: 'NOT_FOUND' });
    });

    it('never puts a secret hash or a clear secret on the wire', async () => {
      const { key, secret, hash } = await insertKey({
        signingSecret: 'clear-signing-secret',
        previousSecretExpiresAt: new Date(Date.now() + HOUR_MS),
      });
      const previous = hashOf(generateApiKey('test'));
      await sut.app.get(MikroORM).em.fork().nativeUpdate(ApiKey, { id: key.id }, { previousSecretHash: previous });
      const replies = [
        await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: hash }),
        await send<KeyRecord>(KeysPattern.Lookup, { secret_hash: previous }),
        await send<KeyRecord>(KeysPattern.Lookup, { public_key: key.publicKey }),
        await send<KeyRecord>(KeysPattern.Get, { key_id: key.id }),
      ];
      for (const reply of replies) {
        const wire = JSON.stringify(reply);
        expect(wire).not.toContain(hash);
        expect(wire).not.toContain(previous);
        expect(wire).not.toContain(secret);
        expect(wire).not.toContain('clear-signing-secret');
        expect(Object.keys(reply)).not.toEqual(expect.arrayContaining(['secret_hash']));
        expect(Object.keys(reply).some((field) => /hash/i.test(field))).toBe(false);
      }
    });

    it.each([
      ['an empty payload', {}],
      ['a short hash', { secret_hash: 'abc123' }],
      ['an upper-case hash', { secret_hash: 'A'.repeat(64) }],
      ['a hash that is not hex', { secret_hash: 'z'.repeat(64) }],
      ['the clear secret instead of its hash', { secret_hash: 'sk_test_' + 'a'.repeat(38) }],
      ['a secret key as public key', { public_key: 'sk_test_' + 'a'.repeat(38) }],
      ['a junk public key', { public_key: 'pk_prod_123' }],
      ['both a hash and a public key', { secret_hash: 'a'.repeat(64), public_key: 'pk_test_' + 'a'.repeat(38) }],
      ['a number', { secret_hash: 42 }],
      ['an unknown field', { secret_hash: 'a'.repeat(64), org_id: 'org_x' }],
      ['a string payload', 'a'.repeat(64)],
    ])('answers VALIDATION_FAILED for %s', async (_, payload) => {
      expect(await errorOf(KeysPattern.Lookup, payload)).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.any(String) });
    });

    it('says what to send when it is not exactly one of a hash and a public key, or the hash is not one', async () => {
      const exactlyOne = 'send exactly one of secret_hash, public_key';
      expect(await errorOf(KeysPattern.Lookup, {})).toMatchObject({ message: exactlyOne });
      expect(await errorOf(KeysPattern.Lookup, { secret_hash: 'a'.repeat(64), public_key: 'pk_test_' + 'a'.repeat(38) })).toMatchObject({
        message: exactlyOne,
      });
      expect(await errorOf(KeysPattern.Lookup, { secret_hash: 'A'.repeat(64) })).toMatchObject({
        message: 'secret_hash must be 64 lower-case hex characters (HMAC-SHA-256)',
      });
    });
  });

  describe(KeysPattern.Get, () => {
    it('answers the key by id, without matched', async () => {
      const { key } = await insertKey({ permissions: ['a:b'] });
      const reply = await send<KeyRecord>(KeysPattern.Get, { key_id: key.id });
      expect(reply).toMatchObject({ id: key.id, org_id: org.id, environment: 'test', status: 'active', permissions: ['a:b'] });
      expect(reply).not.toHaveProperty('matched');
    });

    it('answers NOT_FOUND for an unknown key', async () => {
      expect(await errorOf(KeysPattern.Get, { key_id: newId(IdPrefix.ApiKey) })).toMatchObject({ code: 'NOT_FOUND' });
    });

    it.each([
      ['no key_id', {}],
      ['a junk key_id', { key_id: 'key_1' }],
      ['another kind of id', { key_id: newId(IdPrefix.Organization) }],
      ['an unknown field', { key_id: newId(IdPrefix.ApiKey), secret_hash: 'a'.repeat(64) }],
    ])('answers VALIDATION_FAILED for %s', async (_, payload) => {
      const error = await errorOf(KeysPattern.Get, payload);
      expect(error.code).toBe('VALIDATION_FAILED');
    });
  });

  it('answers through the platform RpcClient as AppErrors, and many concurrent calls each get their own reply', async () => {
    const rpc = sut.app.get(RpcClient);
    const keys = await Promise.all([insertKey(), insertKey(), insertKey()]);
    const calls = Array.from({ length: 30 }, (_, index) => keys[index % 3]);
    const replies = await Promise.all(calls.map((k) => rpc.send<KeyRecord>(KeysPattern.Lookup, { secret_hash: k.hash }, REPLY_WITHIN_MS)));
    expect(replies.map((reply) => reply.id)).toEqual(calls.map((k) => k.key.id));
    const notFound = await rpc.send(KeysPattern.Get, { key_id: newId(IdPrefix.ApiKey) }, REPLY_WITHIN_MS).catch((error: unknown) => error);
    expect(notFound).toBeInstanceOf(AppError);
    expect(notFound).toMatchObject({ code: 'NOT_FOUND', kind: 'not_found' });
  });
});
