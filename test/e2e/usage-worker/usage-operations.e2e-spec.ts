import { TestApp } from '../../support/create-test-app';
import { LogCapture } from '../../support/log-capture';

/**
 * Operations of the usage worker: Bull Board behind the operator token, queue depth
 * metrics, the Redis durability warning. Which settings warn is
 * apps/usage-worker/src/queue-admin/redis-durability.spec.ts; a parked job counted by
 * the depth gauge is apps/usage-worker/src/queue-admin/queue-admin.service.int-spec.ts.
 */
describe('usage-worker operations: /admin/queues, queue depth metrics, Redis durability warning', () => {
  let sut: TestApp;
  const logs = new LogCapture();

  beforeAll(async () => {
    // TARGET=all: nestjs-pino hands logs written outside a request (start-up ones) to the capture then.
    sut = await TestApp.start({ config: { LOG_LEVEL: 'warn' }, logs });
  });

  afterAll(async () => {
    await sut.close();
  });

  const operator = () => sut.config.PLATFORM_ADMIN_TOKEN;

  it('warns at start that the shared Redis (nothing on disk) is not set up for durable queues', () => {
    const warnings = logs
      .entries()
      .filter((entry) => entry.level === 40 || entry.level === 'warn')
      .map((entry) => String(entry.msg));
    expect(warnings.some((msg) => /Redis is not set up for durable queues: .*keeps nothing on disk/.test(msg))).toBe(true);
  });

  it('serves Bull Board at /admin/queues only with the platform operator token', async () => {
    const refused = await sut.get('/admin/queues');
    expect(refused.status).toBe(401);
    // The error envelope every other route answers with, request id included.
    expect(refused.body).toEqual({
      success: false,
      error: {
        code: 'UNAUTHENTICATED',
        message: 'Send the platform operator token.',
        details: [],
        request_id: refused.headers['x-request-id'],
      },
    });
    expect((await sut.get('/admin/queues/api/queues')).status).toBe(401);
    expect((await sut.get('/admin/queues/api/queues', { token: 'not-the-operator-token-at-all' })).status).toBe(401);

    const page = await sut.get('/admin/queues', { token: operator() });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);

    const basic = Buffer.from(`operator:${operator()}`).toString('base64');
    const api = await sut.get('/admin/queues/api/queues', { headers: { authorization: `Basic ${basic}` } });
    expect(api.status).toBe(200);
    const names = (api.body.queues as { name: string }[]).map((queue) => queue.name).sort();
    expect(names).toEqual(['domain-events', 'key-reminders', 'reminder-mails', 'usage-events', 'usage-maintenance', 'webhook-deliveries']);
  });

  it('exports queue depth per queue and state on /metrics, read from Redis at scrape time', async () => {
    const metrics = (await sut.get('/metrics')).text;
    for (const queue of ['domain-events', 'usage-events', 'webhook-deliveries']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        expect(metrics).toMatch(new RegExp(`^bullmq_queue_jobs\\{queue="${queue}",state="${state}"\\} \\d+$`, 'm'));
      }
    }
    // Nothing was left failed by the app's own start.
    expect(metrics).toMatch(/^bullmq_queue_jobs\{queue="usage-events",state="failed"\} 0$/m);
  });
});
