import { ChildProcessApp } from '../../support/child-process-app';
import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { TcpProxy } from '../../support/tcp-proxy';
import { TestEnvironment } from '../../support/test-environment';
import { waitUntil } from '../../support/wait-until';
import { issueKey } from './auth-check-helpers';

interface Readiness {
  status: number;
  body: { status: string; details: Record<string, { status: string; required?: boolean; message?: string }> };
}

/**
 * Postgres gone for auth-check only: two auth-check processes reach the database through
 * a TCP proxy this test cuts (the shared Postgres is never stopped). The one running
 * auth-check alone stays ready and keeps answering its cached keys; the one running
 * org-api as well is not ready, since org-api cannot serve without the database.
 */
describe('auth-check readiness while Postgres is down', () => {
  let env: TestEnvironment;
  let proxy: TcpProxy;
  let sut: TestApp;
  let owner: UserSession;
  let authCheckAlone: ChildProcessApp;
  let authCheckWithOrgApi: ChildProcessApp;

  const childEnv = (target: string) => {
    const viaProxy = new URL(env.databaseUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    return {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      REDIS_URL: sut.config.REDIS_URL,
      REDIS_PREFIX: sut.config.REDIS_PREFIX,
      DATABASE_URL: viaProxy.toString(),
      // Cached records stay fresh for the whole test: what is answered comes from the cache.
      KEY_CACHE_TTL_SECONDS: '3600',
      TARGET: target,
    };
  };

  const ready = async (child: ChildProcessApp): Promise<Readiness> => {
    const response = await fetch(`http://127.0.0.1:${child.port}/health/ready`);
    return { status: response.status, body: (await response.json()) as Readiness['body'] };
  };

  const verify = async (child: ChildProcessApp, key: string) => {
    const response = await fetch(`http://127.0.0.1:${child.port}/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key }),
    });
    return { status: response.status, code: ((await response.json()) as { data?: { code?: string } }).data?.code };
  };

  beforeAll(async () => {
    env = await TestEnvironment.create();
    const target = new URL(env.databaseUrl);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    sut = await TestApp.start({ env, config: { TARGET: 'org-api,key-issuer,usage-worker' } });
    [authCheckAlone, authCheckWithOrgApi] = await Promise.all([
      ChildProcessApp.start(childEnv('auth-check'), 60_000, { listen: true }),
      ChildProcessApp.start(childEnv('auth-check,org-api'), 60_000, { listen: true }),
    ]);
    owner = await signUp(sut);
  }, 120_000);

  afterAll(async () => {
    proxy?.restore();
    await Promise.all([authCheckAlone?.stop(), authCheckWithOrgApi?.stop()]);
    await sut?.close();
    await proxy?.close();
    await env?.destroy();
  });

  it('keeps auth-check alone ready and answering cached keys, saying Postgres is down, until it is back', async () => {
    const key = await issueKey(sut, owner);
    expect(await verify(authCheckAlone, key.secret)).toEqual({ status: 200, code: 'VALID' });
    const before = await ready(authCheckAlone);
    expect(before).toMatchObject({ status: 200, body: { status: 'ok', details: { postgres: { status: 'up', required: false } } } });

    proxy.cut();
    try {
      const during = await ready(authCheckAlone);
      expect(during).toMatchObject({
        status: 200,
        body: { status: 'ok', details: { postgres: { status: 'down', required: false }, redis: { status: 'up' } } },
      });
      expect(await verify(authCheckAlone, key.secret)).toEqual({ status: 200, code: 'VALID' });

      // Running org-api too, the process cannot serve without the database.
      const mixed = await ready(authCheckWithOrgApi);
      expect(mixed).toMatchObject({ status: 503, body: { status: 'error', details: { postgres: { status: 'down' } } } });
      expect(mixed.body.details.postgres.required).toBeUndefined();
    } finally {
      proxy.restore();
    }

    await waitUntil(
      async () => (await ready(authCheckAlone)).body.details.postgres.status === 'up',
      15_000,
      'Postgres to be reported up again',
    );
    await waitUntil(async () => (await ready(authCheckWithOrgApi)).status === 200, 15_000, 'the mixed process to be ready again');
  }, 60_000);
});
