/**
 * What a producer hands to BullMQ's `add(name, data, opts)` or `addBulk([...])`,
 * built by the one job builder of its queue (usageBatchJob, domainEventJob,
 * webhookDeliveryJob, …), so a job's name, retry strategy and deterministic id are
 * decided in one place however many producers add it. The options are the subset
 * of BullMQ's JobsOptions the queues use, so contracts need not depend on BullMQ.
 */
export interface QueueJob<DataType, NameType extends string = string> {
  name: NameType;
  data: DataType;
  opts: QueueJobOptions;
}

/** How a job is retried and kept (a queue's named retry strategy), plus its id and delay. */
export interface QueueJobOptions {
  /** Deterministic where the queue has one: BullMQ ignores an add whose id it still holds. */
  jobId?: string;
  delay?: number;
  attempts?: number;
  backoff?: { readonly type: 'exponential' | 'fixed'; readonly delay: number };
  /** `true`, a count, or an age in seconds: how long a finished job (and so its id) is kept. */
  removeOnComplete?: boolean | number | KeptJobs;
  removeOnFail?: boolean | number | KeptJobs;
}

/** Finished jobs kept by age (seconds) or by count, as BullMQ's KeepJobs. */
export type KeptJobs = { readonly age: number; readonly count?: number } | { readonly age?: number; readonly count: number };
