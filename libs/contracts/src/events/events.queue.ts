/**
 * The BullMQ queue the outbox relay fills with committed domain events; webhook
 * fan-out consumes it. DO NOT CHANGE the name: jobs already queued under it would
 * be stranded. Job id = event id, so a relay retry never enqueues an event twice.
 */
export const EVENTS_QUEUE = 'domain-events';
export const EVENTS_JOB = 'domain-event';

export const EVENTS_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: false,
} as const;
