import { EntityManager } from '@mikro-orm/postgresql';
import { Job, Queue } from 'bullmq';

import { bullPrefix, USAGE_BATCH_JOB, USAGE_JOB_OPTIONS, USAGE_QUEUE, UsageEvent, VerifyCode } from '@latchkey/contracts';
import { MetricsService } from '@latchkey/platform';

import { TestApp } from '../../support/create-test-app';
import { waitUntil } from '../../support/wait-until';

/**
 * What the usage-worker specs that feed the usage queue by hand share: the queue, one
 * check's event, and reads of what the ledger made of it (counters, metrics, SQL).
 */
export class UsageLedgerProbe {
  readonly queue: Queue;

  constructor(private readonly sut: TestApp) {
    this.queue = new Queue(USAGE_QUEUE, { prefix: bullPrefix(sut.config.REDIS_PREFIX), connection: { url: sut.config.REDIS_URL } });
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  /** Adds a batch (of any form: old forms are what some specs test) under its job id. */
  enqueue(data: unknown, jobId: string): Promise<Job> {
    return this.queue.add(USAGE_BATCH_JOB, data, { ...USAGE_JOB_OPTIONS, jobId });
  }

  completed(job: Job): Promise<void> {
    return waitUntil(async () => (await this.queue.getJobState(job.id!)) === 'completed', 10_000, `job ${job.id}`);
  }

  sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
    return this.sut.app.get(EntityManager).fork().execute<T[]>(query, params);
  }

  /** The key's checks counted in its day counters. */
  async countedFor(keyId: string): Promise<number> {
    const rows = await this.sql<{ n: string }>(
      `select coalesce(sum(count), 0) as n from usage_counters where key_id = ? and granularity = 'day'`,
      [keyId],
    );
    return Number(rows[0].n);
  }

  /** A metric's value summed over its labels. */
  async metric(name: string): Promise<number> {
    const metric = await this.sut.app.get(MetricsService).registry.getSingleMetric(name)?.get();
    return metric?.values.reduce((sum, value) => sum + value.value, 0) ?? 0;
  }
}

/** One passing check of `keyId`, as auth-check reports it. */
export function checkEvent(keyId: string, orgId: string, overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    key_id: keyId,
    org_id: orgId,
    environment: 'test',
    code: VerifyCode.Valid,
    ip: '203.0.113.7',
    method: 'GET',
    path: '/v1/things',
    at: new Date().toISOString(),
    latency_us: 300,
    ...overrides,
  };
}
