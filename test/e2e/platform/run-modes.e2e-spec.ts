import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { TestEnvironment } from '../../support/test-environment';

/**
 * TARGET picks the services of a process (docs/decisions/0008-two-run-modes.md). The
 * REST paths of a service are the same whether it runs alone or with the others, and
 * processes of one deployment share Postgres and Redis, so what one writes the other
 * serves.
 */
describe('run modes (TARGET)', () => {
  let env: TestEnvironment;

  beforeAll(async () => {
    env = await TestEnvironment.create();
  });

  afterAll(async () => {
    await env.destroy();
  });

  it('serves only the org-api routes with TARGET=org-api', async () => {
    const sut = await TestApp.start({ env, config: { TARGET: 'org-api' } });
    try {
      expect(sut.config.targets).toEqual(['org-api']);
      const owner = await signUp(sut);
      expect((await sut.get('/v1/orgs/current', { token: owner.token })).status).toBe(200);
      const document = (await sut.get('/v1/openapi.json')).body;
      expect(Object.keys(document.paths)).toContain('/v1/auth/signup');
      expect(document.info.description).toContain('org-api');
    } finally {
      await sut.close();
    }
  });

  it('has no org-api routes in a process without it, but still answers health and metrics', async () => {
    const sut = await TestApp.start({ env, config: { TARGET: 'usage-worker' } });
    try {
      expect((await sut.post('/v1/auth/signup', { body: {} })).status).toBe(404);
      expect((await sut.get('/health/live')).status).toBe(200);
      expect((await sut.get('/health/ready')).status).toBe(200);
      expect((await sut.get('/metrics')).status).toBe(200);
      expect(Object.keys((await sut.get('/v1/openapi.json')).body.paths)).not.toContain('/v1/auth/signup');
    } finally {
      await sut.close();
    }
  });

  it('has no front door without auth-check: the check routes are Fastify’s 404 in the envelope', async () => {
    const sut = await TestApp.start({ env, config: { TARGET: 'org-api,key-issuer,usage-worker' } });
    try {
      // Over a real socket, where a front door would answer before Fastify.
      const verify = await fetch(`${sut.baseUrl}/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'sk_test_whatever' }),
      });
      const check = await fetch(`${sut.baseUrl}/v1/check`, { headers: { 'x-api-key': 'sk_test_whatever' } });
      for (const answer of [verify, check]) {
        expect(answer.status).toBe(404);
        const requestId = answer.headers.get('x-request-id');
        expect(requestId).toMatch(/^req_/);
        expect(await answer.json()).toMatchObject({ success: false, error: { code: 'NOT_FOUND', request_id: requestId } });
        // Fastify's own server keeps the keep-alive the front door's server has.
        expect(answer.headers.get('keep-alive')).toBe('timeout=72');
      }
    } finally {
      await sut.close();
    }
  });

  it('lets two split processes of one deployment serve each other’s data', async () => {
    const first = await TestApp.start({ env, config: { TARGET: 'org-api' } });
    const second = await TestApp.start({ env, config: { TARGET: 'org-api,usage-worker' } });
    try {
      expect(second.config.targets).toEqual(['org-api', 'usage-worker']);
      const owner = await signUp(first);
      const seen = await second.get('/v1/auth/session', { token: owner.token });
      expect(seen.status).toBe(200);
      expect(seen.body.data.org.id).toBe(owner.orgId);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('runs every service with TARGET=all', async () => {
    const sut = await TestApp.start({ env, config: { TARGET: 'all' } });
    try {
      expect(sut.config.targets).toEqual(['org-api', 'key-issuer', 'auth-check', 'usage-worker']);
      // The front door answers the check itself: a verdict on the key, not a missing route.
      const verify = await fetch(`${sut.baseUrl}/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'sk_test_whatever' }),
      });
      const answer = (await verify.json()) as { data: { code: string } };
      expect({ status: verify.status, answer }).toEqual({ status: 200, answer: expect.objectContaining({ success: true }) });
      expect(answer.data.code).not.toBe('VALID');
    } finally {
      await sut.close();
    }
  });
});
