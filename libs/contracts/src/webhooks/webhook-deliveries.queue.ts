import { QueueJob, QueueJobOptions } from '../queues/queue-job';

/**
 * The BullMQ queue of webhook delivery attempts. Fan-out (usage-worker) and manual
 * retry/recover (org-api) put a job per delivery on it; the delivery worker sends it.
 * DO NOT CHANGE the names: jobs already queued under them would be stranded.
 */
export const WEBHOOK_DELIVERIES_QUEUE = 'webhook-deliveries';
export const WEBHOOK_DELIVERY_JOB = 'webhook-delivery';

export interface WebhookDeliveryJobData {
  delivery_id: string;
}

/**
 * Job id of a delivery's next attempt: `${delivery_id}-a${attempt}`. Scheduling the
 * same attempt twice (a fan-out retried, two clicks on "retry") adds one job.
 * (Not `:` — BullMQ refuses custom ids with a colon.)
 */
export function webhookDeliveryJobId(deliveryId: string, attempt: number): string {
  return `${deliveryId}-a${attempt}`;
}

/** The attempt number a delivery job id names, or null for an id in another format. */
export function webhookDeliveryAttemptOf(jobId: string | undefined): number | null {
  const match = /-a(\d+)$/.exec(jobId ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * Options of a delivery attempt's job. BullMQ's own retries only cover the worker's
 * infrastructure failures (Postgres or Redis away mid-job); HTTP failures are
 * rescheduled by the delivery worker as the next attempt's job.
 */
export const WEBHOOK_DELIVERY_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: false,
} as const satisfies QueueJobOptions;

/**
 * The job of one attempt of one delivery, due in `delayMs` (at once by default); its
 * id names the attempt (webhookDeliveryJobId), so every producer (fan-out, the
 * delivery worker's reschedule, the sweeper, org-api's retry and recover) adds the
 * same job for the same attempt.
 */
export function webhookDeliveryJob(
  deliveryId: string,
  attempt: number,
  delayMs = 0,
): QueueJob<WebhookDeliveryJobData, typeof WEBHOOK_DELIVERY_JOB> {
  const delay = Math.max(0, Math.round(delayMs));
  return {
    name: WEBHOOK_DELIVERY_JOB,
    data: { delivery_id: deliveryId },
    opts: { ...WEBHOOK_DELIVERY_JOB_OPTIONS, jobId: webhookDeliveryJobId(deliveryId, attempt), ...(delay > 0 ? { delay } : {}) },
  };
}
