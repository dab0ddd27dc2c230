import { setTimeout as sleep } from 'node:timers/promises';

import { Cluster } from 'ioredis';

import { AuthCheckPattern, EVENTS_QUEUE, EventType, KeysPattern, USAGE_QUEUE, WEBHOOK_DELIVERIES_QUEUE } from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { OwnRedisCluster } from '../../support/own-redis-cluster';
import { rpcCaller } from '../../support/rpc-caller';
import { waitUntil } from '../../support/wait-until';
import { addHookEndpoint, HookReceiver } from '../../support/webhook-fixtures';
import { changeKey, issueKey, signedBody } from '../auth-check/auth-check-helpers';
import { UsageLedgerProbe } from '../usage-worker/usage-ledger-probe';

/**
 * The whole platform on a Redis Cluster of three masters with a replica each
 * (REDIS_CLUSTER_NODES): every script, transaction and batch must keep to one slot,
 * queues to their hash tags, and key-change notices must still reach auth-check.
 */
describe('on a Redis Cluster', () => {
  let cluster: OwnRedisCluster;
  let sut: TestApp;
  let owner: UserSession;
  let ledger: UsageLedgerProbe;

  beforeAll(async () => {
    cluster = await OwnRedisCluster.start();
    sut = await TestApp.start({ config: { ...clusterConfig(), WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
    owner = await signUp(sut);
    ledger = new UsageLedgerProbe(sut);
  }, 120_000);

  const clusterConfig = () => ({ REDIS_CLUSTER_NODES: cluster.seedNodes, REDIS_URL: `redis://127.0.0.1:${cluster.ports[0]}` });

  afterAll(async () => {
    await ledger?.close();
    await sut?.close();
    await cluster?.stop();
  });

  const verify = async (body: Record<string, unknown>) => (await sut.post('/v1/verify', { body })).body.data as Record<string, unknown>;

  it('signs up, logs in and issues keys (login throttle, idempotency and RPC on the cluster)', async () => {
    const login = await sut.post('/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(login.status).toBe(200);
    const key = await issueKey(sut, owner, { permissions: ['payments:read'] });
    expect(await verify({ key: key.secret, permissions: ['payments:read'] })).toMatchObject({ valid: true, code: 'VALID', key_id: key.id });
    expect(await verify({ key: key.secret, permissions: ['users:read'] })).toMatchObject({ code: 'INSUFFICIENT_PERMISSIONS' });
  });

  it('keeps a rate limit and a quota exact', async () => {
    const limited = await issueKey(sut, owner, { rate_limit: { limit: 3, window_seconds: 60 } });
    const codes = [];
    for (let i = 0; i < 5; i += 1) codes.push((await verify({ key: limited.secret })).code);
    expect(codes).toEqual(['VALID', 'VALID', 'VALID', 'RATE_LIMITED', 'RATE_LIMITED']);

    const quota = await issueKey(sut, owner, { quota: { limit: 4, period: 'day' } });
    expect(await verify({ key: quota.secret, cost: 3 })).toMatchObject({ valid: true, quota: { remaining: 1 } });
    expect(await verify({ key: quota.secret, cost: 2 })).toMatchObject({ valid: false, code: 'QUOTA_EXCEEDED' });
  });

  it('refuses a replayed signature and drops a revoked key from the cache at once', async () => {
    const signing = await issueKey(sut, owner, { signing: true });
    const body = signedBody(signing.secret, signing.public_key!, 'GET', '/v1/things');
    expect(await verify(body)).toMatchObject({ valid: true });
    expect(await verify(body)).toMatchObject({ valid: false, code: 'INVALID_SIGNATURE' });

    const revoked = await issueKey(sut, owner);
    expect(await verify({ key: revoked.secret })).toMatchObject({ valid: true });
    await changeKey(sut, owner, revoked.id, 'revoke');
    await waitUntil(async () => (await verify({ key: revoked.secret })).code === 'REVOKED', 3_000, 'the revoke notice');
  });

  it('counts every check exactly once through the usage queue', async () => {
    const key = await issueKey(sut, owner);
    for (let i = 0; i < 25; i += 1) await verify({ key: key.secret });
    await waitUntil(async () => (await ledger.countedFor(key.id)) === 25, 15_000, '25 counted checks');
  });

  it('answers RPC callers of every pattern over the cluster', async () => {
    const key = await issueKey(sut, owner);
    const caller = rpcCaller(sut.config);
    try {
      expect(await caller.call(AuthCheckPattern.VerifyKey, { key: key.secret })).toMatchObject({ valid: true });
      expect(await caller.call(KeysPattern.Get, { key_id: key.id })).toMatchObject({ id: key.id });
    } finally {
      await caller.close();
    }
  });

  it('delivers webhooks', async () => {
    const receiver = await HookReceiver.start();
    try {
      await addHookEndpoint(sut.app, sut.config.ENCRYPTION_KEY, owner.orgId, receiver.url(), [EventType.ApiKeyCreated]);
      await issueKey(sut, owner);
      await waitUntil(async () => receiver.distinct === 1, 15_000, 'the api_key.created delivery');
    } finally {
      await receiver.close();
    }
  });

  it('spreads the queues over the shards: each queue under its own hash tag', async () => {
    const probe = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0] }]);
    try {
      const prefix = sut.config.REDIS_PREFIX;
      const slots = await Promise.all(
        [USAGE_QUEUE, EVENTS_QUEUE, WEBHOOK_DELIVERIES_QUEUE].map((queue) =>
          probe.cluster('KEYSLOT', `${prefix}:bull:{${queue}}:${queue}:meta`),
        ),
      );
      expect(new Set(slots).size).toBe(3);
      expect(await probe.exists(`${prefix}:bull:{${USAGE_QUEUE}}:${USAGE_QUEUE}:meta`)).toBe(1);
    } finally {
      probe.disconnect();
    }
  });

  it("answers a rate-limited key's checks as AUTH_REDIS_FAIL_MODE says while its slot's master fails over, then counts again", async () => {
    // A second auth-check on the same deployment, failing closed.
    const closed = await TestApp.start({
      env: sut.env,
      config: { ...clusterConfig(), TARGET: 'auth-check', AUTH_REDIS_FAIL_MODE: 'closed' },
    });
    try {
      const key = await issueKey(sut, owner, { rate_limit: { limit: 1_000_000, window_seconds: 60 } });
      const verifyOn = async (app: TestApp) =>
        (await app.post('/v1/verify', { body: { key: key.secret } })).body.data as Record<string, unknown>;
      expect(await verifyOn(sut)).toMatchObject({ valid: true, rate_limit: expect.objectContaining({ limit: 1_000_000 }) });
      expect(await verifyOn(closed)).toMatchObject({ valid: true });
      const windowKey = `${sut.config.REDIS_PREFIX}:rl:${key.id}:60`;
      const victim = await cluster.masterOf(windowKey);

      await cluster.kill(victim);
      const open = new Set<string>();
      const shut = new Set<string>();
      const deadline = Date.now() + 20_000;
      // Until the replica has taken over and the limit is counted again on both.
      while (Date.now() < deadline) {
        const [onOpen, onClosed] = await Promise.all([verifyOn(sut), verifyOn(closed)]);
        open.add(onOpen.degraded ? `degraded ${String(onOpen.valid)}` : `counted ${String(onOpen.valid)}`);
        shut.add(onClosed.degraded ? `degraded ${String(onClosed.valid)}` : `counted ${String(onClosed.valid)}`);
        const recovered = !onOpen.degraded && !onClosed.degraded && open.size > 1 && shut.size > 1;
        if (recovered && (await cluster.masterOf(windowKey)) !== victim) break;
        await sleep(50);
      }

      // open: passed, marked degraded, meanwhile; closed: refused meanwhile. Both count again after.
      expect([...open].sort()).toEqual(['counted true', 'degraded true']);
      expect([...shut].sort()).toEqual(['counted true', 'degraded false']);
      // Back as the new master's replica, so the next failover has one to promote.
      await cluster.revive(victim);
    } finally {
      await closed.close();
    }
  }, 60_000);

  // Last: the cluster is left with a master that has no replica.
  it("loses and double-counts no check when the usage queue's master is killed mid-load", async () => {
    const key = await issueKey(sut, owner);
    expect(await verify({ key: key.secret })).toMatchObject({ valid: true });
    const prefix = sut.config.REDIS_PREFIX;
    const queueKey = `${prefix}:bull:{${USAGE_QUEUE}}:${USAGE_QUEUE}:id`;
    const victim = await cluster.masterOf(queueKey);

    let answered = 1;
    for (let i = 0; i < 150; i += 1) {
      if (i === 40) await cluster.kill(victim);
      // A cached key: the check itself needs no Redis, only its usage event does.
      if ((await verify({ key: key.secret })).valid) answered += 1;
      await sleep(20);
    }
    await waitUntil(async () => (await cluster.masterOf(queueKey)) !== victim, 20_000, "the victim's replica to take over");
    await cluster.waitUntilHealthy();

    expect(answered).toBe(151);
    await waitUntil(async () => (await ledger.countedFor(key.id)) >= 151, 30_000, '151 counted checks');
    await sleep(2_000);
    expect(await ledger.countedFor(key.id)).toBe(151);
  }, 90_000);
});
