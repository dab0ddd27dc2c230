import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { Logger } from '@nestjs/common';
import { Job, Queue, UnrecoverableError } from 'bullmq';

import { AppConfig } from '@latchkey/config';

import { TestEnvironment } from '../../../../test/support/test-environment';
import { waitUntil } from '../../../../test/support/wait-until';
import { closeBullmq } from './close-bullmq';
import { createProducerQueue } from './create-queue';
import { SCHEDULED_JOB_OPTIONS, WorkerHost, WorkerHostOptions } from './worker-host';

const EMAIL = 'grace@example.com';

function uniqueViolation(): Error {
  const pg = Object.assign(
    new Error(`insert into "users" ("email") values ('${EMAIL}') - duplicate key value violates unique constraint "users_email_unique"`),
    {
      severity: 'ERROR',
      code: '23505',
      constraint: 'users_email_unique',
      table: 'users',
      detail: `Key (email)=(${EMAIL}) already exists.`,
    },
  );
  return new UniqueConstraintViolationException(pg);
}

interface ProbeData {
  outcome: 'database-error' | 'unrecoverable' | 'plain-error' | 'slow' | 'stuck' | 'ok';
  ms?: number;
}

/** A 'stuck' job runs until the test is over: afterEach releases it, so no job outlives the file. */
let releaseStuck: () => void = () => undefined;
let stuckUntilReleased = new Promise<void>((resolve) => (releaseStuck = resolve));

/** A processor as the apps write them: settings in the constructor, the work in process(). */
class ProbeProcessor extends WorkerHost<ProbeData, string> {
  readonly failures: { job: Job<ProbeData> | undefined; error: Error }[] = [];
  readonly started: string[] = [];

  constructor(config: AppConfig, options: Partial<WorkerHostOptions<ProbeData>> = {}) {
    super(config, { queue: 'worker-host-probe', jobLabel: 'probe job', ...options });
  }

  async process(job: Job<ProbeData>): Promise<string> {
    this.started.push(job.id ?? '?');
    switch (job.data.outcome) {
      case 'database-error':
        throw uniqueViolation();
      case 'unrecoverable':
        throw new UnrecoverableError('this job can never succeed');
      case 'plain-error':
        throw new Error('the endpoint answered 502');
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, job.data.ms ?? 0));
        return 'slow done';
      case 'stuck':
        await stuckUntilReleased;
        return 'released';
      case 'ok':
        return 'done';
    }
  }

  protected override onFailed(job: Job<ProbeData> | undefined, error: Error): void {
    this.failures.push({ job, error });
  }
}

describe(WorkerHost.name, () => {
  let env: TestEnvironment;
  let config: AppConfig;
  let queue: Queue<ProbeData>;
  let sut: ProbeProcessor | undefined;
  /** Hosts besides sut, as other processes of the same deployment. */
  let others: ProbeProcessor[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    env = await TestEnvironment.create();
    config = new AppConfig(env.config());
    queue = createProducerQueue<ProbeData>('worker-host-probe', config, new Logger('probe'));
  });

  afterEach(async () => {
    for (const host of [sut, ...others]) await host?.beforeApplicationShutdown();
    sut = undefined;
    others = [];
    releaseStuck();
    stuckUntilReleased = new Promise<void>((resolve) => (releaseStuck = resolve));
    await queue.obliterate({ force: true });
  });

  afterAll(async () => {
    await closeBullmq(queue);
    await env.destroy();
  });

  function start(options: Partial<WorkerHostOptions<ProbeData>> = {}): ProbeProcessor {
    sut = new ProbeProcessor(config, options);
    sut.onApplicationBootstrap();
    return sut;
  }

  function startAnother(options: Partial<WorkerHostOptions<ProbeData>> = {}): ProbeProcessor {
    const host = new ProbeProcessor(config, options);
    host.onApplicationBootstrap();
    others.push(host);
    return host;
  }

  async function settled(id: string): Promise<Job<ProbeData>> {
    let job: Job<ProbeData> | undefined;
    await waitUntil(
      async () => {
        job = await queue.getJob(id);
        return job !== undefined && (job.finishedOn !== undefined || (job.failedReason !== undefined && job.failedReason !== ''));
      },
      10_000,
      `job ${id} to finish`,
    );
    return job!;
  }

  it('runs process() for a job on its queue under the deployment prefix', async () => {
    start();
    const added = await queue.add('probe', { outcome: 'ok' });

    const job = await settled(added.id!);

    expect(job.returnvalue).toBe('done');
    expect(queue.opts.prefix).toBe(`${env.redisPrefix}:bull`);
  });

  it('stores a failed statement in Redis and logs it without its values, the original kept as the cause', async () => {
    const host = start();
    const warn = jest.spyOn(host['logger'], 'warn');
    const added = await queue.add('probe', { outcome: 'database-error' }, { attempts: 1 });

    const job = await settled(added.id!);

    expect(job.failedReason).toMatch(/^database error 23505 unique_violation \(constraint users_email_unique, table users\)/);
    expect(job.failedReason).not.toContain(EMAIL);
    expect((job.stacktrace ?? []).join('\n')).not.toContain(EMAIL);
    expect(job.stacktrace?.[0]).toMatch(/^UniqueConstraintViolationException: database error 23505/);
    await waitUntil(() => host.failures.length === 1, 2_000, 'the failed listener');
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(new RegExp(`^probe job ${added.id} failed \\(attempt 1 of 1\\): database error 23505`)),
    );
    expect(warn.mock.calls.flat().join('\n')).not.toContain(EMAIL);
    expect(host.failures[0].error.cause).toBeInstanceOf(UniqueConstraintViolationException);
  });

  it('keeps an ordinary error as it is, retried per the job options', async () => {
    const host = start();
    const added = await queue.add('probe', { outcome: 'plain-error' }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });

    await waitUntil(() => host.failures.length === 2, 10_000, 'two failed attempts');
    const job = await settled(added.id!);

    expect(job.failedReason).toBe('the endpoint answered 502');
    expect(job.attemptsMade).toBe(2);
    expect(host.failures.map((failure) => failure.error.message)).toEqual(['the endpoint answered 502', 'the endpoint answered 502']);
  });

  it('fails an UnrecoverableError at once, whatever attempts are left', async () => {
    const host = start();
    const added = await queue.add('probe', { outcome: 'unrecoverable' }, { attempts: 5, backoff: { type: 'fixed', delay: 10 } });

    const job = await settled(added.id!);

    expect(job.failedReason).toBe('this job can never succeed');
    expect(job.attemptsMade).toBe(1);
    expect(await job.getState()).toBe('failed');
    expect(host.started).toEqual([added.id]);
  });

  it('passes its settings to the worker, leaving BullMQ the defaults of those not given', () => {
    const host = start({ concurrency: 3, lockDurationMs: 7_000 });
    const worker = host['hostedWorker']!;

    expect(worker.opts).toMatchObject({ concurrency: 3, lockDuration: 7_000, stalledInterval: 30_000, maxStalledCount: 1 });
    expect(worker.opts.prefix).toBe(`${env.redisPrefix}:bull`);
  });

  it('finishes the job in hand on shutdown, then takes no more', async () => {
    const host = start({ closeDeadlineMs: 5_000 });
    const slow = await queue.add('probe', { outcome: 'slow', ms: 300 });
    await waitUntil(() => host.started.includes(slow.id!), 5_000, 'the slow job to start');

    await host.beforeApplicationShutdown();
    sut = undefined;
    const later = await queue.add('probe', { outcome: 'ok' });
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect((await settled(slow.id!)).returnvalue).toBe('slow done');
    expect(await (await queue.getJob(later.id!))?.getState()).toBe('waiting');
  });

  it('gives up on a job that outlasts the close deadline, and says so', async () => {
    const host = start({ closeDeadlineMs: 200 });
    const warn = jest.spyOn(host['logger'], 'warn');
    const stuck = await queue.add('probe', { outcome: 'stuck' });
    await waitUntil(() => host.started.includes(stuck.id!), 5_000, 'the stuck job to start');

    await host.beforeApplicationShutdown();
    sut = undefined;

    expect(warn).toHaveBeenCalledWith('worker-host-probe worker close timed out; leaving the jobs in hand to be redelivered');
  });

  it('stops renewing the lock of a job it gave up on, so nothing holds the process open and the job can be redelivered', async () => {
    const host = start({ closeDeadlineMs: 200 });
    const stuck = await queue.add('probe', { outcome: 'stuck' });
    await waitUntil(() => host.started.includes(stuck.id!), 5_000, 'the stuck job to start');
    const lockManager = (host['hostedWorker'] as unknown as { lockManager: { closed: boolean } }).lockManager;
    expect(lockManager.closed).toBe(false);

    await host.beforeApplicationShutdown();
    sut = undefined;

    // The job is still in hand (it runs until the test ends), and its lock is no longer renewed.
    expect(await (await queue.getJob(stuck.id!))?.getState()).toBe('active');
    expect(lockManager.closed).toBe(true);
  });

  describe('with a schedule', () => {
    const schedule = { everyMs: 60_000, jobName: 'probe-every-minute', data: { outcome: 'ok' } } as const;

    async function scheduledJobs(): Promise<Job<ProbeData>[]> {
      const jobs = await queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
      return jobs.filter((job) => job.name === schedule.jobName);
    }

    it('runs the scheduled job with its data at once, kept per the retention defaults', async () => {
      const host = start({ schedule });

      await waitUntil(async () => (await scheduledJobs()).some((job) => job.finishedOn !== undefined), 10_000, 'the first run');

      const [first] = (await scheduledJobs()).filter((job) => job.finishedOn !== undefined);
      expect(first.data).toEqual({ outcome: 'ok' });
      expect(first.returnvalue).toBe('done');
      expect(first.opts).toMatchObject(SCHEDULED_JOB_OPTIONS);
      expect(host.started).toContain(first.id);
    });

    it('has one scheduler in Redis however many hosts keep it', async () => {
      const first = start({ schedule });
      const second = startAnother({ schedule });

      expect(await first.ensureSchedule()).toBe(true);
      expect(await second.ensureSchedule()).toBe(true);

      expect(await queue.getJobSchedulers()).toEqual([
        expect.objectContaining({ key: schedule.jobName, name: schedule.jobName, every: schedule.everyMs }),
      ]);
    });

    it('adds a job of the schedule on demand, with the same retention', async () => {
      class OnDemandProbe extends ProbeProcessor {
        runNow(data: ProbeData): Promise<Job<ProbeData>> {
          return this.addScheduledJob(data);
        }
      }
      const host = new OnDemandProbe(config, { schedule });
      sut = host;
      host.onApplicationBootstrap();

      const added = await host.runNow({ outcome: 'slow', ms: 1 });
      const job = await settled(added.id!);

      expect(job.name).toBe(schedule.jobName);
      expect(job.returnvalue).toBe('slow done');
      expect(job.opts).toMatchObject(SCHEDULED_JOB_OPTIONS);
    });

    it('closes its producer queue on shutdown and keeps the scheduler no more', async () => {
      const host = start({ schedule });
      expect(await host.ensureSchedule()).toBe(true);
      const producer = host['scheduleQueue']!;
      const client = await producer.client;

      await host.beforeApplicationShutdown();
      sut = undefined;

      expect(client.status).toBe('end');
      expect(await host.ensureSchedule()).toBe(false);
    });

    it('has no producer queue and no scheduler without a schedule', async () => {
      const host = start();

      expect(host['scheduleQueue']).toBeUndefined();
      expect(await host.ensureSchedule()).toBe(false);
      expect(await queue.getJobSchedulers()).toEqual([]);
    });
  });
});
