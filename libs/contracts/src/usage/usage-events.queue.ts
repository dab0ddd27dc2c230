import { VerifyCode } from '../auth-check/verify-codes';
import { QueueJob, QueueJobOptions } from '../queues/queue-job';
import { readUsageColumns, UsageColumns, usageColumnsOf } from './usage-columns';

/**
 * One key check, pass or fail (docs/architecture.md#a-check-end-to-end). Emitted by
 * auth-check, never on the request's critical path, and counted exactly once by
 * usage-worker.
 */
export interface UsageEvent {
  /** Absent when the key was malformed or unknown. */
  key_id: string | null;
  org_id: string | null;
  environment: 'test' | 'live' | null;
  code: VerifyCode;
  ip: string | null;
  method: string | null;
  path: string | null;
  /** ISO-8601 time of the check. */
  at: string;
  latency_us: number;
}

/**
 * auth-check buffers events and sends them as ONE job per flush (by size or time):
 * a job per check halves verify throughput. `batch_id` is also the job id, so a
 * producer retry never enqueues a batch twice, and the worker records it in the
 * same transaction as the counters, so a redelivered batch is counted once.
 *
 * The events come as columns (UsageColumns): what auth-check sends, and the only
 * form the worker counts. The first form, a list of event objects, is no longer
 * read; a job of it still queued at an upgrade is parked by the worker, not counted
 * (the CHANGELOG's upgrade notes say to drain the queue first).
 */
export interface UsageBatchJobData {
  batch_id: string;
  columns: UsageColumns;
}

/** The batch of these events, as columns: how tools and tests build one from a list. */
export function usageBatchOf(batchId: string, events: readonly UsageEvent[]): UsageBatchJobData {
  return { batch_id: batchId, columns: usageColumnsOf(events) };
}

/** The events of a batch, in order (its columns read as readUsageColumns does). */
export function usageEventsOf(batch: UsageBatchJobData): UsageEvent[] {
  return readUsageColumns(batch.columns);
}

/** DO NOT CHANGE the names: jobs already queued under them would be stranded. */
export const USAGE_QUEUE = 'usage-events';
export const USAGE_BATCH_JOB = 'usage-batch';

/** The usage batches' retry strategy: twenty attempts, a second and doubling apart (about six days in all). */
export const USAGE_JOB_OPTIONS = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 1_000 },
  // Kept a day so the batch id keeps deduplicating a re-sent batch (see EVENTS_JOB_OPTIONS).
  removeOnComplete: { age: 86_400 },
  removeOnFail: false,
} as const satisfies QueueJobOptions;

/** The job of one usage batch; its id is the batch id, so a re-sent batch adds nothing. */
export function usageBatchJob(batch: UsageBatchJobData): QueueJob<UsageBatchJobData, typeof USAGE_BATCH_JOB> {
  return { name: USAGE_BATCH_JOB, data: batch, opts: { ...USAGE_JOB_OPTIONS, jobId: batch.batch_id } };
}
