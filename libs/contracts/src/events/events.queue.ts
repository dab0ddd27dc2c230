import { QueueJob, QueueJobOptions } from '../queues/queue-job';
import { DomainEvent } from './event-types';

/**
 * The BullMQ queue the outbox relay fills with committed domain events; webhook
 * fan-out consumes it. DO NOT CHANGE the name: jobs already queued under it would
 * be stranded. Job id = event id, so a relay retry never enqueues an event twice.
 */
export const EVENTS_QUEUE = 'domain-events';
export const EVENTS_JOB = 'domain-event';

/** A job on EVENTS_QUEUE carries the event envelope as is. */
export type EventsJobData = DomainEvent;

/** The events' retry strategy: ten attempts, a second and doubling apart. */
export const EVENTS_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  // Not `true`: BullMQ ignores an add whose job id already exists only while that
  // job is still stored. A relay killed between enqueue and commit re-sends its
  // batch; if the job had completed and been removed at once, the event would be
  // enqueued (and delivered) a second time. Keeping completed jobs for a day keeps
  // their ids reserved far longer than any relay retry takes.
  removeOnComplete: { age: 86_400 },
  removeOnFail: false,
} as const satisfies QueueJobOptions;

/** The job of one committed domain event; its id is the event id, so a relay re-sending its batch adds nothing. */
export function domainEventJob(event: EventsJobData): QueueJob<EventsJobData, typeof EVENTS_JOB> {
  return { name: EVENTS_JOB, data: event, opts: { ...EVENTS_JOB_OPTIONS, jobId: event.id } };
}

/**
 * BullMQ key prefix of every Latchkey queue: the deployment's REDIS_PREFIX plus
 * `:bull`, so deployments (and test files) sharing one Redis never share queues.
 * Producers and workers must both use it, or they would not see each other's jobs.
 */
export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}:bull`;
}
