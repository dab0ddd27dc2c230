import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { LogCapture } from '../../support/log-capture';
import { issueKey } from './auth-check-helpers';

/**
 * The check routes are answered by the HTTP server's front door, before Fastify and
 * Nest (KeyChecksFrontDoor; TestApp sends them over a real socket). What a caller can
 * see of that: they behave exactly like the documented routes, and none of the
 * pipeline's per-request features apply to them.
 */
describe('the check routes’ fast path', () => {
  const logs = new LogCapture();
  let sut: TestApp;

  beforeAll(async () => {
    sut = await TestApp.start({ logs, config: { LOG_LEVEL: 'info' } });
  });

  afterAll(async () => {
    await sut.close();
  });

  it('never replays a verify for a repeated Idempotency-Key: every check counts against the rate limit', async () => {
    const owner = await signUp(sut);
    const key = await issueKey(sut, owner, { rate_limit: { limit: 2, window_seconds: 60 } });
    const headers = { 'idempotency-key': 'same-key' };
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await sut.post('/v1/verify', { body: { key: key.secret }, headers }));
    expect(answers.map((answer) => answer.body.data.code)).toEqual(['VALID', 'VALID', 'RATE_LIMITED']);
    expect(answers.every((answer) => answer.headers['idempotent-replayed'] === undefined)).toBe(true);
  });

  it('serves on a server with Fastify’s connection timeouts (it does not set them on a server it did not create)', () => {
    const server = sut.app.getHttpServer();
    expect(server.keepAliveTimeout).toBe(72_000);
    expect(server.requestTimeout).toBe(0);
  });

  it('keeps the request id, the envelope for bad input, and writes no log line per check', async () => {
    const bad = await sut.post('/v1/verify', { body: { key: 42 } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, error: { code: 'VALIDATION_FAILED', request_id: bad.headers['x-request-id'] } });
    const check = await sut.get('/v1/check', { headers: { 'x-api-key': 'sk_test_not-a-key' } });
    expect(check.status).toBe(401);
    expect(check.headers['x-request-id']).toMatch(/^req_/);
    const checkLines = logs.entries().filter((entry) => ['/v1/check', '/v1/verify'].includes((entry.req as { path?: string })?.path ?? ''));
    expect(checkLines).toEqual([]);
  });
});
