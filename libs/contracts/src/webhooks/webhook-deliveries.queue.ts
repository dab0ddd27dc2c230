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
 * Job id of a delivery's next attempt: `${delivery_id}:${attempt}`. Scheduling the
 * same attempt twice (a fan-out retried, two clicks on "retry") adds one job.
 */
export function webhookDeliveryJobId(deliveryId: string, attempt: number): string {
  return `${deliveryId}:${attempt}`;
}
