import { setTimeout as sleep } from 'node:timers/promises';

import Redis from 'ioredis';

import { TestEnvironment } from '../../../test/support/test-environment';
import { waitUntil } from '../../../test/support/wait-until';
import { RpcRefusedError, RpcTimeoutError } from './errors';
import { RedisRpcCaller, RpcCallerOptions } from './rpc-caller';
import { RedisRpcResponder, RpcResponderOptions } from './rpc-responder';
import { randomId, replyFields, replyStreamKey, requestFields, requestStreamKey, RpcCredential, signRequest } from './wire';

const SERVICE_SECRET = 'service-secret-for-the-rpc-int-spec-0001';
const NEXT_SERVICE_SECRET = 'service-secret-for-the-rpc-int-spec-0002';
const INTERNAL_TOKEN = 'internal-token-for-the-rpc-int-spec';
const SERVICE: RpcCredential = { name: 'service', secret: SERVICE_SECRET };

describe('RPC over Redis Streams', () => {
  let env: TestEnvironment;
  let redisUrl: string;
  let prefix: string;
  let redis: Redis;
  let testSeq = 0;
  const open: Array<{ close(): Promise<void> }> = [];

  const connect = () => new Redis(redisUrl, { maxRetriesPerRequest: 1 });

  /** Handler runs, by request payload, across every responder of the test. */
  let runs: unknown[] = [];

  function responder(overrides: Partial<RpcResponderOptions> = {}): RedisRpcResponder {
    const sut = new RedisRpcResponder({
      connect,
      prefix,
      patterns: ['auth.verify', 'keys.get'],
      serviceSecrets: [SERVICE_SECRET, NEXT_SERVICE_SECRET],
      internalSecrets: [INTERNAL_TOKEN],
      internalPatterns: new Set(['auth.verify']),
      handle: async (pattern, payload) => {
        runs.push(payload);
        return pattern === 'keys.get' && (payload as { refuse?: boolean }).refuse
          ? { ok: false, error: { code: 'NOT_FOUND', message: 'No such key.', details: [] } }
          : { ok: true, data: { pattern, echo: payload } };
      },
      ...overrides,
    });
    open.push({ close: () => sut.stop(1_000) });
    return sut;
  }

  function caller(credential: RpcCredential = SERVICE, overrides: Partial<RpcCallerOptions> = {}): RedisRpcCaller {
    const sut = new RedisRpcCaller({ connect, prefix, credential, ...overrides });
    open.push(sut);
    return sut;
  }

  async function refusal(call: Promise<unknown>): Promise<RpcRefusedError> {
    const outcome = await call.then(
      (value) => new Error(`expected a refusal, got ${JSON.stringify(value)}`),
      (error: unknown) => error,
    );
    if (!(outcome instanceof RpcRefusedError)) throw outcome;
    return outcome;
  }

  beforeAll(async () => {
    env = await TestEnvironment.create();
    redisUrl = env.config().REDIS_URL;
    redis = connect();
  });

  beforeEach(() => {
    prefix = `${env.redisPrefix}:t${++testSeq}`;
    runs = [];
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((item) => item.close()));
  });

  afterAll(async () => {
    redis.disconnect();
    await env.destroy();
  });

  it('runs each request on exactly one of three instances and answers its own caller', async () => {
    const servers = [responder(), responder(), responder()];
    await Promise.all(servers.map((server) => server.start()));
    const callers = [caller(), caller()];

    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => callers[i % 2].call<{ echo: { n: number } }>('keys.get', { n: i, from: i % 2 })),
    );

    expect(answers.map((answer) => answer.echo.n)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(runs).toHaveLength(60);
    expect(new Set(runs.map((run) => (run as { n: number }).n)).size).toBe(60);
    // A request is deleted once taken: a request holds an API key, and nothing piles up.
    expect(await redis.xlen(requestStreamKey(prefix, 'keys'))).toBe(0);
    // Replies are deleted once read, and a reply stream outlives its caller by a minute at most.
    const replies = replyStreamKey(prefix, callers[0].callerId, true);
    await waitUntil(async () => (await redis.xlen(replies)) === 0, 3_000, 'the replies to be deleted once read');
    const replyTtl = await redis.pttl(replies);
    expect(replyTtl).toBeGreaterThan(0);
    expect(replyTtl).toBeLessThanOrEqual(60_000);
  });

  it('opens its connections with the first call, not before (a process that never calls holds none)', async () => {
    await responder().start();
    let opened = 0;
    const sut = caller(SERVICE, {
      connect: () => {
        opened += 1;
        return connect();
      },
    });
    expect(opened).toBe(0);

    await sut.call('keys.get', {});
    await sut.call('keys.get', {});
    expect(opened).toBe(2);
  });

  it("passes a handler's refusal on as it was given", async () => {
    await responder().start();
    const refused = await refusal(caller().call('keys.get', { refuse: true }));

    expect(refused.body).toEqual({ code: 'NOT_FOUND', message: 'No such key.', details: [] });
  });

  it('opens auth.verify to INTERNAL_TOKEN but keys.* only to SERVICE_SECRET', async () => {
    await responder().start();
    const operator = caller({ name: 'internal', secret: INTERNAL_TOKEN });

    expect(await operator.call('auth.verify', { key: 'sk_1' })).toEqual({ pattern: 'auth.verify', echo: { key: 'sk_1' } });
    expect((await refusal(operator.call('keys.get', { id: 'key_1' }))).body).toMatchObject({ code: 'FORBIDDEN' });
    // The service secret opens both, and the one being rotated in too.
    expect(await caller().call('auth.verify', {})).toMatchObject({ pattern: 'auth.verify' });
    expect(await caller({ name: 'service', secret: NEXT_SERVICE_SECRET }).call('keys.get', {})).toMatchObject({ pattern: 'keys.get' });
    expect(runs).toHaveLength(3);
  });

  it('refuses a wrong secret, or none, at once with UNAUTHENTICATED and runs nothing', async () => {
    await responder().start();
    const wrong = caller({ name: 'service', secret: 'not-the-service-secret-of-this-deployment' });
    const unsigned = caller({ name: 'none' });
    const tokenAsService = caller({ name: 'service', secret: INTERNAL_TOKEN });

    const refusals = await Promise.all(
      [wrong.call('keys.get', {}), unsigned.call('auth.verify', {}), tokenAsService.call('keys.get', {})].map(refusal),
    );

    expect(refusals.map((refused) => refused.body.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    // Unsigned, so not the server's word: the caller keeps the code and says the rest itself.
    expect(refusals[0].body.message).toBe("The service could not verify this caller's signature: check the credential and its secret.");
    expect(runs).toHaveLength(0);
  });

  it('takes unsigned auth.verify, and only that, on a deployment without INTERNAL_TOKEN (as POST /v1/verify does)', async () => {
    await responder({ internalSecrets: [] }).start();
    const unsigned = caller({ name: 'none' });

    expect(await unsigned.call('auth.verify', { key: 'sk_1' })).toMatchObject({ pattern: 'auth.verify' });
    expect((await refusal(unsigned.call('keys.get', {}))).body).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('runs neither a forged request nor a replayed one', async () => {
    await responder().start();
    const listener = caller();
    const stream = requestStreamKey(prefix, 'keys');
    const replyTo = replyStreamKey(prefix, listener.callerId);
    const request = signRequest({ id: randomId(), pattern: 'keys.get', replyTo, deadline: Date.now() + 5_000, data: '{"n":1}' }, SERVICE);

    await redis.xadd(stream, '*', ...requestFields({ ...request, data: '{"n":2}' })); // changed after signing
    await redis.xadd(stream, '*', ...requestFields(request));
    await waitUntil(async () => runs.length === 1, 3_000, 'the genuine request');
    await redis.xadd(stream, '*', ...requestFields(request)); // the same entry again
    await waitUntil(async () => (await redis.xlen(stream)) === 0, 3_000, 'the replay to be taken');
    await sleep(200);

    expect(runs).toEqual([{ n: 1 }]);
  });

  it("runs a request only from its own service's stream, so a copy on another stream is no second run", async () => {
    await responder().start();
    const listener = caller();
    const replyTo = replyStreamKey(prefix, listener.callerId, true);
    const request = signRequest(
      { id: randomId(), pattern: 'auth.verify', replyTo, deadline: Date.now() + 5_000, data: '{"n":1}' },
      SERVICE,
    );

    // The same process reads both streams; the copy on keys' stream has a nonce of its own there.
    await redis.xadd(requestStreamKey(prefix, 'keys'), '*', ...requestFields(request));
    await redis.xadd(requestStreamKey(prefix, 'auth'), '*', ...requestFields(request));
    await waitUntil(async () => runs.length === 1, 3_000, 'the request on its own stream');
    await waitUntil(async () => (await redis.xlen(requestStreamKey(prefix, 'keys'))) === 0, 3_000, 'the copy to be taken');
    await sleep(200);

    expect(runs).toEqual([{ n: 1 }]);
  });

  it('drops a signed request whose deadline is further away than any call may wait, claiming nothing', async () => {
    await responder().start();
    const listener = caller();
    const replyTo = replyStreamKey(prefix, listener.callerId, true);
    const request = signRequest({ id: randomId(), pattern: 'keys.get', replyTo, deadline: Date.now() + 3_600_000, data: '{}' }, SERVICE);
    await redis.xadd(requestStreamKey(prefix, 'keys'), '*', ...requestFields(request));
    await waitUntil(async () => (await redis.xlen(requestStreamKey(prefix, 'keys'))) === 0, 3_000, 'the request to be taken');
    await sleep(200);

    expect(runs).toEqual([]);
    expect(await redis.keys(`${prefix}:rpc:{keys}:seen:*`)).toEqual([]);
  });

  it('never runs a request whose deadline passed while no instance was reading', async () => {
    const early = caller();
    const late = early.call('keys.get', { n: 'late' }, { timeoutMs: 300 });
    const inTime = early.call('keys.get', { n: 'in time' }, { timeoutMs: 5_000 });
    await expect(late).rejects.toBeInstanceOf(RpcTimeoutError);

    await responder().start();

    expect(await inTime).toMatchObject({ echo: { n: 'in time' } });
    expect(runs).toEqual([{ n: 'in time' }]);
  });

  it('does not run again on another instance a request whose instance died while running it', async () => {
    let release: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const dying = responder({
      handle: async (pattern, payload) => {
        runs.push(payload);
        await hung;
        return { ok: true, data: null };
      },
    });
    await dying.start();
    const call = caller().call('keys.get', { n: 1 }, { timeoutMs: 1_500 });
    await waitUntil(async () => runs.length === 1, 3_000, 'the first instance to take it');
    // Its connections are cut (a SIGKILL, as Redis sees it); another instance comes up.
    void dying.stop(0);
    await responder().start();

    await expect(call).rejects.toBeInstanceOf(RpcTimeoutError);
    expect(runs).toEqual([{ n: 1 }]);
    release();
  });

  it('drops a forged reply: the caller waits for the one its server signed', async () => {
    const listener = caller();
    const replyTo = replyStreamKey(prefix, listener.callerId, true);
    await responder({
      handle: async (pattern, payload) => {
        runs.push(payload);
        await sleep(300);
        return { ok: true, data: 'genuine' };
      },
    }).start();
    const call = listener.call('keys.get', {});
    await waitUntil(async () => runs.length === 1, 3_000, 'the request to run');
    const [nonce] = await redis.keys(`${prefix}:rpc:{keys}:seen:*`);
    const id = nonce.split(':').pop()!;
    await redis.xadd(replyTo, '*', ...replyFields({ id, ok: true, data: '"forged"', signature: '' }));
    await redis.xadd(replyTo, '*', ...replyFields({ id, ok: true, data: '"forged"', signature: 'c2lnbmVkLWJ5LWFub3RoZXI' }));

    expect(await call).toBe('genuine');
  });

  it('comes back by itself when its stream and consumer group are deleted (a Redis restarted empty)', async () => {
    await responder().start();
    const sut = caller();
    expect(await sut.call('keys.get', { n: 1 })).toMatchObject({ echo: { n: 1 } });

    await redis.del(requestStreamKey(prefix, 'keys'));
    await waitUntil(
      async () => (await sut.call('keys.get', { n: 2 }, { timeoutMs: 500 }).catch(() => undefined)) !== undefined,
      10_000,
      'calls to be answered again',
    );
  });

  it('trims requests nobody took once they are older than any deadline', async () => {
    const stream = requestStreamKey(prefix, 'keys');
    await redis.xadd(
      stream,
      '1-1',
      ...requestFields(signRequest({ id: randomId(), pattern: 'keys.get', replyTo: 'x', deadline: 1, data: '{}' }, SERVICE)),
    );
    await caller()
      .call('keys.get', {}, { timeoutMs: 100 })
      .catch(() => undefined);

    const ids = (await redis.xrange(stream, '-', '+')).map(([id]) => id);
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe('1-1');
  });
});
