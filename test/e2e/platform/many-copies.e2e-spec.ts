import { setTimeout as sleep } from 'node:timers/promises';

import { AuthCheckPattern } from '@latchkey/contracts';
import { RedisRpcCaller, RpcTimeoutError } from '@latchkey/redis-rpc';

import { ChildProcessApp } from '../../support/child-process-app';
import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { rpcCaller } from '../../support/rpc-caller';
import { TestEnvironment } from '../../support/test-environment';
import { waitUntil } from '../../support/wait-until';
import { changeKey, issueKey, signedBody } from '../auth-check/auth-check-helpers';
import { UsageLedgerProbe } from '../usage-worker/usage-ledger-probe';

interface Verdict {
  valid: boolean;
  code: string;
  quota?: { remaining: number } | null;
}

/**
 * Every service as several copies on one Redis and one Postgres: org-api and a
 * key-issuer in this process, a second key-issuer, three auth-checks and two usage
 * workers as child processes. What one copy does, N copies do once.
 */
describe('several copies of every service', () => {
  let env: TestEnvironment;
  let sut: TestApp;
  let owner: UserSession;
  let caller: RedisRpcCaller;
  let ledger: UsageLedgerProbe;
  const children: ChildProcessApp[] = [];
  let authChecks: ChildProcessApp[] = [];

  const childEnv = (target: string) => ({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REDIS_URL: sut.config.REDIS_URL,
    REDIS_PREFIX: sut.config.REDIS_PREFIX,
    DATABASE_URL: env.databaseUrl,
    TARGET: target,
  });

  beforeAll(async () => {
    env = await TestEnvironment.create();
    sut = await TestApp.start({ env, config: { TARGET: 'org-api,key-issuer' } });
    const started = await Promise.all([
      ChildProcessApp.start(childEnv('key-issuer')),
      ...[1, 2, 3].map(() => ChildProcessApp.start(childEnv('auth-check'), 60_000, { listen: true })),
      ChildProcessApp.start(childEnv('usage-worker')),
      ChildProcessApp.start(childEnv('usage-worker')),
    ]);
    children.push(...started);
    authChecks = started.slice(1, 4);
    owner = await signUp(sut);
    caller = rpcCaller(sut.config);
    ledger = new UsageLedgerProbe(sut);
  }, 120_000);

  afterAll(async () => {
    await caller?.close();
    await ledger?.close();
    await Promise.all(children.map((child) => child.stop()));
    await sut?.close();
    await env?.destroy();
  });

  const verify = (payload: Record<string, unknown>) => caller.call<Verdict>(AuthCheckPattern.VerifyKey, payload, { timeoutMs: 5_000 });

  async function verifyOver(child: ChildProcessApp, key: string): Promise<Verdict> {
    const response = await fetch(`http://127.0.0.1:${child.port}/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key }),
    });
    return ((await response.json()) as { data: Verdict }).data;
  }

  /** Waits for the usage workers to count `expected` checks, then makes sure no late copy follows. */
  async function countedSettles(keyId: string, expected: number): Promise<number> {
    await waitUntil(async () => (await ledger.countedFor(keyId)) >= expected, 20_000, `${expected} counted checks`);
    await sleep(2_500); // past a usage flush (USAGE_FLUSH_MS) of every auth-check
    return ledger.countedFor(keyId);
  }

  it('runs 30 auth.verify calls 30 times: quota spent by 30, 30 checks counted', async () => {
    const key = await issueKey(sut, owner, { quota: { limit: 100, period: 'day' } });

    const verdicts = await Promise.all(Array.from({ length: 30 }, () => verify({ key: key.secret })));

    expect(verdicts.every((verdict) => verdict.valid)).toBe(true);
    // Each run spends one unit: the 30 answers saw 30 different remainders, 99 down to 70.
    expect(verdicts.map((verdict) => verdict.quota!.remaining).sort((a, b) => b - a)).toEqual(Array.from({ length: 30 }, (_, i) => 99 - i));
    expect(await countedSettles(key.id, 30)).toBe(30);
  });

  it('passes a signed request over RPC once and refuses its replay', async () => {
    const key = await issueKey(sut, owner, { signing: true });
    const body = signedBody(key.secret, key.public_key!, 'GET', '/v1/things');

    expect(await verify(body)).toMatchObject({ valid: true });
    expect(await verify(body)).toMatchObject({ valid: false, code: 'INVALID_SIGNATURE' });
  });

  it('reaches every auth-check with a revoke long before the cache would expire', async () => {
    const key = await issueKey(sut, owner);
    for (const child of authChecks) expect(await verifyOver(child, key.secret)).toMatchObject({ valid: true });

    await changeKey(sut, owner, key.id, 'revoke');

    // Well inside KEY_CACHE_TTL_SECONDS (10 s here): the notice, not the expiry, dropped each cached copy.
    const revokedEverywhere = async () =>
      (await Promise.all(authChecks.map((child) => verifyOver(child, key.secret)))).every((v) => v.code === 'REVOKED');
    await waitUntil(revokedEverywhere, 3_000, 'the revoke on all three auth-checks');
  });

  it('answers every caller or times it out cleanly when an auth-check is killed mid-load, and counts no check twice', async () => {
    const key = await issueKey(sut, owner, { quota: { limit: 1_000, period: 'day' } });
    const victim = authChecks[0];
    const calls: Array<Promise<Verdict | RpcTimeoutError>> = [];
    for (let i = 0; i < 90; i += 1) {
      calls.push(
        caller.call<Verdict>(AuthCheckPattern.VerifyKey, { key: key.secret }, { timeoutMs: 3_000 }).catch((error: unknown) => {
          if (error instanceof RpcTimeoutError) return error;
          throw error;
        }),
      );
      if (i === 30) await victim.kill();
      await sleep(5);
    }
    const outcomes = await Promise.all(calls);
    const answered = outcomes.filter((outcome): outcome is Verdict => !(outcome instanceof RpcTimeoutError));

    expect(answered.every((verdict) => verdict.valid)).toBe(true);
    expect(answered.length).toBeGreaterThanOrEqual(60);
    // One more check reads what was spent: every run spent one unit, and no request ran twice.
    const after = await verify({ key: key.secret });
    const spentBefore = 1_000 - after.quota!.remaining - 1;
    expect(spentBefore).toBeGreaterThanOrEqual(answered.length);
    expect(spentBefore).toBeLessThanOrEqual(calls.length);
    // The killed auth-check's unsent usage events are lost with it, never sent twice.
    expect(await countedSettles(key.id, answered.length - 30)).toBeLessThanOrEqual(spentBefore + 1);
  }, 60_000);
});
