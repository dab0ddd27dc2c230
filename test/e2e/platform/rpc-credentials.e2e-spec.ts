import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import Redis from 'ioredis';

import { AuthCheckPattern, KeysPattern, OrgsPattern } from '@latchkey/contracts';
import { randomId, replyStreamKey, requestStreamKey, RpcRefusedError } from '@latchkey/redis-rpc';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { OwnRedisServer } from '../../support/own-redis-server';
import { rpcCaller } from '../../support/rpc-caller';
import { issueKey } from '../auth-check/auth-check-helpers';

const run = promisify(execFile);
const ROOT = join(__dirname, '../../..');
const INTERNAL_TOKEN = 'e2e-internal-token-for-rpc-credentials';

/** The two credentials' reach on a deployment that sets INTERNAL_TOKEN, as docs/rpc-over-redis.md promises. */
describe('RPC credentials: INTERNAL_TOKEN opens auth.verify, SERVICE_SECRET everything', () => {
  let sut: TestApp;
  let owner: UserSession;
  let key: { id: string; secret: string };

  beforeAll(async () => {
    sut = await TestApp.start({ config: { INTERNAL_TOKEN } });
    owner = await signUp(sut);
    key = await issueKey(sut, owner, { permissions: ['payments:read'] });
  });

  afterAll(async () => {
    await sut.close();
  });

  async function codeOf(call: Promise<unknown>): Promise<string> {
    const error = await call.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    return error instanceof RpcRefusedError ? error.body.code : `not refused: ${String(error)}`;
  }

  it("gives an operator's service (INTERNAL_TOKEN) the verdict and no tenant's records", async () => {
    const operator = rpcCaller(sut.config, { name: 'internal', secret: INTERNAL_TOKEN });
    try {
      expect(await operator.call(AuthCheckPattern.VerifyKey, { key: key.secret })).toMatchObject({ valid: true, key_id: key.id });
      expect(await codeOf(operator.call(KeysPattern.Get, { key_id: key.id }))).toBe('FORBIDDEN');
      expect(await codeOf(operator.call(OrgsPattern.GetOrganization, { org_id: owner.orgId }))).toBe('FORBIDDEN');
    } finally {
      await operator.close();
    }
  });

  it('refuses unsigned and wrongly signed calls to every pattern', async () => {
    const unsigned = rpcCaller(sut.config, { name: 'none' });
    const wrong = rpcCaller(sut.config, { name: 'service', secret: 'a-service-secret-this-deployment-does-not-have' });
    try {
      for (const caller of [unsigned, wrong]) {
        expect(await codeOf(caller.call(AuthCheckPattern.VerifyKey, { key: key.secret }))).toBe('UNAUTHENTICATED');
        expect(await codeOf(caller.call(KeysPattern.Get, { key_id: key.id }))).toBe('UNAUTHENTICATED');
      }
    } finally {
      await Promise.all([unsigned.close(), wrong.close()]);
    }
  });

  it("answers Latchkey's own processes (SERVICE_SECRET) on every pattern", async () => {
    const service = rpcCaller(sut.config);
    try {
      expect(await service.call(KeysPattern.Get, { key_id: key.id })).toMatchObject({ id: key.id });
      expect(await service.call(OrgsPattern.GetOrganization, { org_id: owner.orgId })).toMatchObject({ id: owner.orgId });
    } finally {
      await service.close();
    }
  });

  it('answers a hand-made unsigned request (all pub/sub asked for) with UNAUTHENTICATED, never the record', async () => {
    const redis = new Redis(sut.config.REDIS_URL);
    try {
      const replyTo = replyStreamKey(sut.config.REDIS_PREFIX, randomId());
      // What pub/sub took before: the pattern and payload, no signature.
      const fields = [
        'v',
        '1',
        'id',
        randomId(),
        'p',
        KeysPattern.Get,
        'r',
        replyTo,
        'dl',
        String(Date.now() + 2_000),
        'k',
        'service',
        'd',
        JSON.stringify({ key_id: key.id }),
        's',
        '',
      ];
      await redis.xadd(requestStreamKey(sut.config.REDIS_PREFIX, 'keys'), '*', ...fields);
      const replies = (await redis.xread('BLOCK', 1_000, 'STREAMS', replyTo, '0')) ?? [];
      const answered = replies.flatMap(([, entries]) => entries.map(([, entry]) => entry));

      // At most the unsigned refusal, never the record.
      expect(answered.map((entry) => JSON.parse(entry[entry.indexOf('d') + 1]).code)).toEqual(['UNAUTHENTICATED']);
    } finally {
      redis.disconnect();
    }
  });

  it('runs the documented example: scripts/examples/verify-over-redis.ts prints the verdict', async () => {
    const env = { ...process.env, REDIS_URL: sut.config.REDIS_URL, REDIS_PREFIX: sut.config.REDIS_PREFIX, INTERNAL_TOKEN };
    const example = ['-r', '@swc-node/register', 'scripts/examples/verify-over-redis.ts'];
    const passed = await run(process.execPath, [...example, key.secret, 'payments:read'], {
      cwd: ROOT,
      env: { ...env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    });
    expect(JSON.parse(passed.stdout)).toMatchObject({ valid: true, key_id: key.id });

    const refused = await run(process.execPath, [...example, key.secret, 'payments:write'], {
      cwd: ROOT,
      env: { ...env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    }).catch((error: { code: number; stdout: string }) => error);
    expect(refused).toMatchObject({ code: 1 });
    expect(JSON.parse(refused.stdout)).toMatchObject({ valid: false, code: 'INSUFFICIENT_PERMISSIONS' });
  }, 60_000);
});

/** The ACL docs/rpc-over-redis.md gives an operator's service: its rules, as redis-server takes them. */
function documentedOperatorRules(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/rpc-over-redis.md'), 'utf8');
  const line = /^user checkout on >PASSWORD (.+)$/m.exec(doc);
  if (!line) throw new Error('docs/rpc-over-redis.md no longer shows the operator ACL');
  return line[1].split(' ');
}

describe("an operator's service with the ACL docs/rpc-over-redis.md gives it", () => {
  let redis: OwnRedisServer;
  let sut: TestApp;
  let key: { id: string; secret: string };

  beforeAll(async () => {
    redis = await OwnRedisServer.start({
      user: { username: 'latchkey', password: 'latchkey-acl-password' },
      otherUsers: [{ username: 'checkout', password: 'checkout-acl-password', rules: documentedOperatorRules() }],
    });
    // REDIS_PREFIX must be the documented `lk` for the documented key patterns to apply.
    sut = await TestApp.start({ config: { REDIS_URL: redis.url, REDIS_PREFIX: 'lk', INTERNAL_TOKEN } });
    const owner = await signUp(sut);
    key = await issueKey(sut, owner);
  }, 60_000);

  afterAll(async () => {
    await sut?.close();
    await redis?.stop();
  });

  it('checks keys over RPC through the example', async () => {
    const env = {
      ...process.env,
      REDIS_URL: redis.urlAs('checkout', 'checkout-acl-password'),
      REDIS_PREFIX: 'lk',
      INTERNAL_TOKEN,
      SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
    };
    const passed = await run(process.execPath, ['-r', '@swc-node/register', 'scripts/examples/verify-over-redis.ts', key.secret], {
      cwd: ROOT,
      env,
    });

    expect(JSON.parse(passed.stdout)).toMatchObject({ valid: true, key_id: key.id });
  }, 60_000);

  it("cannot read the requests others send nor Latchkey's own replies", async () => {
    const operator = new Redis(redis.urlAs('checkout', 'checkout-acl-password'));
    try {
      const refused = (command: Promise<unknown>) =>
        command.then(
          () => 'allowed',
          (error: Error) => error.message.split(' ')[0],
        );
      expect(await refused(operator.xread('COUNT', 1, 'STREAMS', 'lk:rpc:{auth}:requests', '0'))).toBe('NOPERM');
      expect(await refused(operator.xread('COUNT', 1, 'STREAMS', 'lk:rpc:{service-replies-AAAAAAAAAAAAAAAAAAAAAA}', '0'))).toBe('NOPERM');
      expect(await refused(operator.xadd('lk:rpc:{keys}:requests', '*', 'a', 'b'))).toBe('NOPERM');
      expect(await refused(operator.keys('lk:*'))).toBe('NOPERM');
    } finally {
      operator.disconnect();
    }
  });
});
