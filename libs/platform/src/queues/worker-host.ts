import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue, RateLimiterOptions, Worker, WorkerOptions } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { QueueJobOptions } from '@latchkey/contracts';

import { errorMessageForLog } from '../logging/log-redaction';
import { RedisPurpose } from '../redis/redis-connection';
import { attachConnection, bullConnection, queuePrefix } from './bull-connection';
import { closeBullmq } from './close-bullmq';
import { createProducerQueue } from './create-queue';
import { keepJobScheduler, KeptJobScheduler } from './job-scheduler';

/** A job the host's own queue gets every `everyMs`, from one BullMQ job scheduler shared by every process. */
export interface WorkerSchedule<DataType> {
  everyMs: number;
  /**
   * The job's name, and the scheduler's id. Stored in Redis: DO NOT CHANGE it once
   * deployed, or the old scheduler keeps adding jobs beside the new one.
   */
  jobName: string;
  /** What each run's job carries; `{}` when left out. */
  data?: DataType;
}

/** How a queue's worker runs; everything but the queue name has BullMQ's default when left out. */
export interface WorkerHostOptions<DataType = unknown> {
  queue: string;
  /** What a job is called in the log: `<jobLabel> <job id> failed (attempt n of m): …`. */
  jobLabel: string;
  concurrency?: number;
  /** How long a job's lock lasts (renewed every half of it); a dead worker's jobs are taken over once it lapses. */
  lockDurationMs?: number;
  /** How often lapsed locks are looked for. */
  stalledIntervalMs?: number;
  /** How often a job may stall before it fails (BullMQ's default is 1). */
  maxStalledCount?: number;
  limiter?: RateLimiterOptions;
  /**
   * On shutdown, how long the jobs in hand may take; after that they are abandoned
   * and BullMQ's stalled check hands them to another worker.
   */
  closeDeadlineMs?: number;
  /** Runs the queue's jobs on a schedule: the host then also produces them (see WorkerSchedule). */
  schedule?: WorkerSchedule<DataType>;
}

/** Scheduled runs are kept a while for an operator to look at, then dropped. */
export const SCHEDULED_JOB_OPTIONS = { removeOnComplete: 100, removeOnFail: 100 } as const satisfies QueueJobOptions;
/** How long one upsert of the scheduler, or the close of its queue, may take. */
const SCHEDULE_DEADLINE_MS = 5_000;

/** A failure line longer than this is cut in the middle: a batch insert's statement is long even without its values. */
const MAX_FAILURE_CHARS = 500;

/**
 * The one way a queue's consumer is run. A processor extends it, declares its queue
 * and settings in the constructor and implements only `process(job)`; the host:
 *
 * - creates the BullMQ worker at bootstrap with the deployment's queue prefix and the
 *   worker connection of the Redis connection factory;
 * - logs every failed attempt without a database error's values, and listens for
 *   'error' (without a listener BullMQ's 'error' event would crash the process);
 * - stores no values in Redis: BullMQ keeps a failed job's `err.message` and stack
 *   (Bull Board shows them), and for a failed statement that is the SQL with its
 *   values, so the error is replaced by one saying only what the log may say;
 * - closes the worker before the database and Redis connections close, within a deadline;
 * - with a `schedule`, keeps its job scheduler (keepJobScheduler) through a producer
 *   queue of its own, which it closes after the worker.
 *
 * A subclass that needs more at bootstrap or shutdown overrides the hook and calls super.
 */
export abstract class WorkerHost<DataType = unknown, ResultType = unknown> implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private hostedWorker: Worker<DataType, ResultType> | undefined;
  // Untyped: BullMQ cannot tell a generic DataType from a Job type; the data is typed by addScheduledJob and the schedule.
  private scheduleQueue: Queue | undefined;
  private scheduler: KeptJobScheduler | undefined;
  private readonly hostConfig: AppConfig;

  protected constructor(
    config: AppConfig,
    private readonly hostOptions: WorkerHostOptions<DataType>,
  ) {
    this.hostConfig = config;
  }

  /** One job's work. A throw fails the attempt (retried per the job's options); UnrecoverableError fails the job. */
  abstract process(job: Job<DataType>, token?: string): Promise<ResultType>;

  /** Called after every failed attempt is logged (metrics); must not throw. */
  protected onFailed(_job: Job<DataType> | undefined, _error: Error): void {}

  onApplicationBootstrap(): void {
    const options = this.hostOptions;
    const tuning: Partial<WorkerOptions> = {
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: options.maxStalledCount,
      limiter: options.limiter,
    };
    const connection = bullConnection(this.hostConfig, RedisPurpose.QueueWorker);
    const worker = new Worker<DataType, ResultType>(options.queue, (job, token) => this.run(job, token), {
      prefix: queuePrefix(this.hostConfig, options.queue),
      connection,
      // BullMQ spreads these over its defaults: a key left undefined would erase the default.
      ...Object.fromEntries(Object.entries(tuning).filter(([, value]) => value !== undefined)),
    });
    attachConnection(worker, connection);
    worker.on('error', (error: Error) => this.logger.debug(`redis: ${errorMessageForLog(error)}`));
    worker.on('failed', (job: Job<DataType> | undefined, error: Error) => {
      this.logger.warn(failureLine(options.jobLabel, job, error));
      this.onFailed(job, error);
    });
    this.hostedWorker = worker;
    if (options.schedule) this.startSchedule(options.schedule);
  }

  /** Before the database and Redis connections close: finish the jobs in hand, or give them back. */
  async beforeApplicationShutdown(): Promise<void> {
    this.scheduler?.stop();
    this.scheduler = undefined;
    const worker = this.hostedWorker;
    this.hostedWorker = undefined;
    if (worker && (await closeBullmq(worker, this.hostOptions.closeDeadlineMs)) === 'forced') {
      this.logger.warn(`${this.hostOptions.queue} worker close timed out; leaving the jobs in hand to be redelivered`);
    }
    const queue = this.scheduleQueue;
    this.scheduleQueue = undefined;
    await closeBullmq(queue, SCHEDULE_DEADLINE_MS);
  }

  /** Upserts the schedule's scheduler now, as every process does at boot; true when it is in place. */
  async ensureSchedule(): Promise<boolean> {
    return (await this.scheduler?.ensure()) ?? false;
  }

  /** Adds one of the schedule's jobs now (tests, operators); the scheduler adds the regular ones. */
  protected async addScheduledJob(data: DataType): Promise<Job<DataType>> {
    const schedule = this.hostOptions.schedule;
    if (!schedule || !this.scheduleQueue) throw new Error(`${this.hostOptions.jobLabel} is not scheduled here`);
    return this.scheduleQueue.add(schedule.jobName, data, SCHEDULED_JOB_OPTIONS) as Promise<Job<DataType>>;
  }

  private startSchedule(schedule: WorkerSchedule<DataType>): void {
    this.scheduleQueue = createProducerQueue(this.hostOptions.queue, this.hostConfig, this.logger);
    this.scheduler = keepJobScheduler(
      this.scheduleQueue,
      {
        id: schedule.jobName,
        everyMs: schedule.everyMs,
        // A schedule without data runs jobs that carry none; the processor's data type allows it.
        job: { name: schedule.jobName, data: schedule.data ?? ({} as DataType), opts: SCHEDULED_JOB_OPTIONS },
        label: this.hostOptions.jobLabel,
        deadlineMs: SCHEDULE_DEADLINE_MS,
      },
      this.logger,
    );
  }

  private async run(job: Job<DataType>, token: string | undefined): Promise<ResultType> {
    try {
      return await this.process(job, token);
    } catch (error) {
      throw withoutValues(error);
    }
  }
}

/**
 * The error BullMQ may store: the same when its message says nothing a log may not;
 * otherwise an error of the same name (BullMQ tells UnrecoverableError and its kin by
 * name) whose message and stack's first line are the value-free description. The
 * original stays as `cause`, which BullMQ does not store, for the failed listener.
 */
export function withoutValues(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const text = errorMessageForLog(error);
  if (text === error.message) return error;
  const safe = new Error(text, { cause: error });
  safe.name = error.name;
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  safe.stack = [`${error.name}: ${text}`, ...frames].join('\n');
  return safe;
}

function failureLine(jobLabel: string, job: Job | undefined, error: Error): string {
  const attempts = job ? `attempt ${job.attemptsMade} of ${job.opts.attempts ?? 1}` : 'unknown job';
  const text = errorMessageForLog(error);
  const half = MAX_FAILURE_CHARS / 2;
  const message = text.length > MAX_FAILURE_CHARS ? `${text.slice(0, half)} … ${text.slice(-half)}` : text;
  return `${jobLabel} ${job?.id ?? '?'} failed (${attempts}): ${message}`;
}
