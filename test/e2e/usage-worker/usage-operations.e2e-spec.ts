import { randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';

import { bullPrefix, USAGE_BATCH_JOB, USAGE_QUEUE, usageBatchOf } from '@latchkey/contracts';

import { durabilityWarnings } from '../../../apps/usage-worker/src/queue-admin/redis-durability';
import { TestApp } from '../../support/create-test-app';
import { LogCapture } from '../../support/log-capture';

/** Operations of the usage worker: Bull Board behind the operator token, queue depth metrics, the Redis durability warning. */
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

  it('decides the warnings from the settings: noeviction with AOF or RDB is quiet, anything else warns', () => {
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: true, rdbSave: '' })).toEqual([]);
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, rdbSave: '3600 1' })).toEqual([]);
    expect(durabilityWarnings({ maxmemoryPolicy: 'allkeys-lru', aofEnabled: true, rdbSave: '' })).toEqual([
      expect.stringMatching(/allkeys-lru, not noeviction/),
    ]);
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, rdbSave: '' })).toEqual([
      expect.stringMatching(/keeps nothing on disk/),
    ]);
    // CONFIG disabled (managed Redis): AOF off and the RDB schedule unknown still warns, without failing.
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, rdbSave: null })).toEqual([
      expect.stringMatching(/could not be read/),
    ]);
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

  it('exports queue depth per queue and state, read from Redis at scrape time', async () => {
    const queue = new Queue(USAGE_QUEUE, { prefix: bullPrefix(sut.config.REDIS_PREFIX), connection: { url: sut.config.REDIS_URL } });
    try {
      // A delayed batch stays put for the scrape (the worker only takes it in an hour).
      await queue.add(USAGE_BATCH_JOB, usageBatchOf(`bat_${randomUUID()}`, []), { delay: 3_600_000 });
      const metrics = (await sut.get('/metrics')).text;
      expect(metrics).toMatch(/^bullmq_queue_jobs\{queue="usage-events",state="delayed"\} 1$/m);
      for (const state of ['waiting', 'active', 'failed']) {
        expect(metrics).toMatch(new RegExp(`^bullmq_queue_jobs\\{queue="usage-events",state="${state}"\\} \\d+$`, 'm'));
        expect(metrics).toMatch(new RegExp(`^bullmq_queue_jobs\\{queue="webhook-deliveries",state="${state}"\\} \\d+$`, 'm'));
      }
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  });
});
