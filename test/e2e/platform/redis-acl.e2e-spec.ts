import { spawn } from 'node:child_process';
import { join } from 'node:path';

import Redis from 'ioredis';

import { generateApiKey } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { LogCapture } from '../../support/log-capture';
import { OwnRedisServer } from '../../support/own-redis-server';
import { TestEnvironment } from '../../support/test-environment';
import { changeKey, issueKey, waitFor } from '../auth-check/auth-check-helpers';

const ROOT = join(__dirname, '../../..');
const USER = 'latchkey';
const PASSWORD = 'acl-e2e-password-5c1d9e';
const HOUR_MS = 3_600_000;

/**
 * The platform against a Redis set up the way docs/operations.md and docker-compose.yml ask:
 * the password-less default user off, one named ACL user with a password. Every
 * connection (cache, rate limits, the key-changed subscriber, the RPC transport,
 * BullMQ's producers and workers) must log in with REDIS_URL's credentials, or the
 * key check, its invalidation or the usage count below stops working.
 */
describe.each([
  ['every key and channel', (): string[] => ['~*', '&*', '+@all']],
  // The narrower ACL docs/operations.md offers for a Redis shared with other applications.
  ['only the keys and channels under REDIS_PREFIX', (prefix: string): string[] => [`~${prefix}:*`, `&${prefix}:*`, '+@all']],
])('Redis with no default user and an ACL user allowed %s', (_scope, rules) => {
  let env: TestEnvironment;
  let redis: OwnRedisServer;
  let sut: TestApp;
  let owner: UserSession;
  const logs = new LogCapture();

  beforeAll(async () => {
    env = await TestEnvironment.create();
    redis = await OwnRedisServer.start({ user: { username: USER, password: PASSWORD, rules: rules(env.redisPrefix) } });
    sut = await TestApp.start({ env, config: { REDIS_URL: redis.url, USAGE_FLUSH_MS: '50', LOG_LEVEL: 'debug' }, logs });
    owner = await signUp(sut);
  }, 60_000);

  afterAll(async () => {
    await sut?.close();
    await env?.destroy();
    await redis?.stop();
  }, 60_000);

  it('runs on a Redis that refuses a client without credentials', async () => {
    const anonymous = new Redis({ port: redis.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }

    const ready = await sut.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ info: { redis: { status: 'up' } } });
  });

  it('checks a rate-limited key, counts it in that Redis, and sees its revocation', async () => {
    const key = await issueKey(sut, owner, { rate_limit: { limit: 1_000, window_seconds: 60 } });
    const verify = (secret: string) => sut.post('/v1/verify', { body: { key: secret, method: 'GET', path: '/acl' } });

    const first = await verify(key.secret);
    expect(first.status).toBe(200);
    // Not degraded: the rate-limit script ran on this Redis, it did not fail open.
    expect(first.body.data).toMatchObject({ valid: true, code: 'VALID' });
    expect(first.body.data.degraded).toBeUndefined();
    expect((await verify(generateApiKey('test'))).body.data.code).toBe('NOT_FOUND');

    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      const [, keys] = await admin.scan('0', 'MATCH', `${sut.config.REDIS_PREFIX}:*`, 'COUNT', 1_000);
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      admin.disconnect();
    }

    // Revocation reaches auth-check over pub/sub, on the subscriber's own connection.
    await changeKey(sut, owner, key.id, 'revoke');
    const revoked = await waitFor(
      () => verify(key.secret),
      (response) => response.body?.data?.code === 'REVOKED',
      5_000,
    );
    expect(revoked.value.body.data.code).toBe('REVOKED');
  });

  it('flushes usage events through BullMQ into the usage endpoints', async () => {
    const key = await issueKey(sut, owner);
    for (let i = 0; i < 3; i += 1) {
      expect((await sut.post('/v1/verify', { body: { key: key.secret, method: 'GET', path: '/acl/usage' } })).body.data.code).toBe('VALID');
    }

    const counted = await waitFor(
      async () => {
        const response = await sut.get(`/v1/api-keys/${key.id}/usage`, {
          token: owner.token,
          query: {
            granularity: 'hour',
            from: new Date(Date.now() - HOUR_MS).toISOString(),
            to: new Date(Date.now() + HOUR_MS).toISOString(),
          },
        });
        if (response.status !== 200) return -1;
        const buckets = response.body.data.buckets as { codes: Record<string, number> }[];
        return buckets.reduce((sum, bucket) => sum + (bucket.codes.VALID ?? 0), 0);
      },
      (total) => total >= 3,
      15_000,
      100,
    );
    expect(counted.value).toBe(3);
  }, 30_000);

  it('never logs the password', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.text).not.toContain(PASSWORD);
  });
});

/**
 * A wrong password fails the start the way an unreachable Redis does: the process
 * exits non-zero within seconds, never listens, and its log names the refusal
 * (WRONGPASS), not the password. Its own OS process, so nothing it left retrying
 * outlives the test.
 */
describe('Redis refusing the credentials', () => {
  let redis: OwnRedisServer;
  let env: TestEnvironment;

  beforeAll(async () => {
    redis = await OwnRedisServer.start({ user: { username: USER, password: PASSWORD } });
    env = await TestEnvironment.create();
  }, 60_000);

  afterAll(async () => {
    await env?.destroy();
    await redis?.stop();
  });

  it('stops the start with WRONGPASS in the log, not a hang', async () => {
    const wrongPassword = 'not-the-acl-password-8b2f';
    const started = Date.now();
    const { code, output } = await runChild({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: env.databaseUrl,
      REDIS_PREFIX: env.redisPrefix,
      REDIS_URL: redis.urlAs(USER, wrongPassword),
    });

    expect(code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(output).not.toMatch(/^ready/m);
    expect(output).toContain('WRONGPASS');
    expect(output).not.toContain(wrongPassword);
  }, 60_000);
});

/** Runs test/support/usage-worker-child.ts to its exit (killed after 50 s), with everything it printed. */
function runChild(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'test/support/usage-worker-child.ts')], {
      cwd: ROOT,
      env: { ...process.env, TZ: 'UTC', SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json'), LATCHKEY_CHILD_ENV: JSON.stringify(env) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-50_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // A child that did start would wait for a signal: end it, and the assertions say why.
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
