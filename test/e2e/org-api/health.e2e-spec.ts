import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import Redis from 'ioredis';

import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { freePort } from '../../support/free-port';

/**
 * Readiness against a Redis this file owns: a private `redis-server` on a free port
 * that the test stops and starts again. The shared Redis on 6379 is never touched.
 */
describe('Health, metrics and API documents', () => {
  let port: number;
  let redis: ChildProcess | undefined;
  let sut: TestApp;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    sut = await TestApp.start({ config: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  }, 60_000);

  afterAll(async () => {
    // Close while Redis is up, so nothing waits on a reconnect.
    if (!redis) redis = await startRedis(port).catch(() => undefined);
    await sut?.close();
    await stopRedis(redis);
  }, 60_000);

  it('GET /health/live answers 200 without credentials', async () => {
    const response = await sut.get('/health/live');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('GET /health/ready answers 200 while Postgres and Redis answer', async () => {
    const response = await sut.get('/health/ready');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up' } } });
  });

  it('answers 503 within a few seconds once Redis is gone, and 200 again when it is back, without a restart', async () => {
    await stopRedis(redis);
    redis = undefined;

    const downStarted = Date.now();
    const down = await sut.get('/health/ready');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'error', error: { redis: { status: 'down' } }, info: { postgres: { status: 'up' } } });
    expect(Date.now() - downStarted).toBeLessThan(5_000);
    // Still 503 on the next probe: the answer does not depend on a lucky timing.
    expect((await sut.get('/health/ready')).status).toBe(503);
    expect((await sut.get('/health/live')).status).toBe(200);

    redis = await startRedis(port);
    const healed = await waitFor(async () => (await sut.get('/health/ready')).status === 200, 15_000);
    expect(healed).toBe(true);
    // And the app really uses Redis again (login counts failures there).
    const owner = await signUp(sut);
    expect((await sut.post('/v1/auth/login', { body: { email: owner.email, password: owner.password } })).status).toBe(200);
  }, 60_000);

  it('GET /metrics exposes http_request_duration_seconds labelled by route', async () => {
    const owner = await signUp(sut);
    await sut.get('/v1/orgs/current', { token: owner.token });
    const response = await sut.get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(response.text).toMatch(
      /http_request_duration_seconds_count\{[^}]*method="GET"[^}]*route="\/v1\/orgs\/current"[^}]*status_code="200"[^}]*\} [1-9]/,
    );
    // The route template, never the raw URL with ids in it.
    await sut.post('/v1/platform/orgs/org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I/approve-live', { token: sut.config.PLATFORM_ADMIN_TOKEN });
    const after = (await sut.get('/metrics')).text;
    expect(after).toContain('route="/v1/platform/orgs/:id/approve-live"');
    expect(after).not.toContain('org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I');
  });

  it('GET /v1/openapi.json lists the organisation, platform and audit-log endpoints', async () => {
    const response = await sut.get('/v1/openapi.json');
    expect(response.status).toBe(200);
    const paths = response.body.paths as Record<string, Record<string, unknown>>;
    const expected: [string, string][] = [
      ['/v1/orgs', 'get'],
      ['/v1/orgs/current', 'get'],
      ['/v1/orgs/current', 'patch'],
      ['/v1/orgs/current/settings', 'get'],
      ['/v1/orgs/current/settings', 'patch'],
      ['/v1/orgs/current/live-access', 'post'],
      ['/v1/platform/orgs', 'get'],
      ['/v1/platform/orgs/{id}/approve-live', 'post'],
      ['/v1/audit-logs', 'get'],
    ];
    for (const [path, method] of expected) expect(paths[path]?.[method]).toBeDefined();
    const parameters = (paths['/v1/audit-logs'].get as { parameters: { name: string }[] }).parameters.map((parameter) => parameter.name);
    expect(parameters).toEqual(expect.arrayContaining(['action', 'actor_id', 'target_id', 'from', 'to', 'limit', 'cursor']));
    expect(response.body.components.schemas.UpdateOrganizationSettingsDto.properties).toHaveProperty('allowed_expiry_presets');
  });

  it('GET /docs serves the browsable HTML', async () => {
    const response = await sut.get('/docs');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.text).toMatch(/swagger/i);
  });
});

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const up = await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }, 10_000);
  if (!up) {
    await stopRedis(child);
    throw new Error(`redis-server did not start on port ${port}`);
  }
  return child;
}

async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return false;
}
