import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { WEBHOOK_DELIVERIES_QUEUE, webhookDeliveryJob, WebhookDeliveryJobData } from '@latchkey/contracts';
import { closeBullmq, createProducerQueue, withDeadline } from '@latchkey/platform';

/** How long one enqueue may take before the caller gets a 503 (the delivery row is already pending). */
const ENQUEUE_DEADLINE_MS = 5_000;
const CLOSE_DEADLINE_MS = 2_000;
const BULK_SIZE = 500;

export interface ScheduledAttempt {
  deliveryId: string;
  /** The attempt number this job makes: attempt_count + 1. */
  attempt: number;
}

/**
 * The typed producer of WEBHOOK_DELIVERIES_QUEUE for manual retries and recover; its
 * jobs come from the same builder as fan-out's.
 * Job id = webhookDeliveryJobId(delivery, attempt): two clicks on "retry" before the
 * worker takes the first add one job. Calls fail (never hang) while Redis is away.
 */
@Injectable()
export class WebhookDeliveriesProducer implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveriesProducer.name);
  private readonly queue: Queue<WebhookDeliveryJobData>;

  constructor(config: AppConfig) {
    this.queue = createProducerQueue<WebhookDeliveryJobData>(WEBHOOK_DELIVERIES_QUEUE, config, this.logger);
  }

  async enqueueAttempts(attempts: ScheduledAttempt[]): Promise<void> {
    for (let start = 0; start < attempts.length; start += BULK_SIZE) {
      const batch = attempts.slice(start, start + BULK_SIZE);
      await withDeadline(
        this.queue.addBulk(batch.map(({ deliveryId, attempt }) => webhookDeliveryJob(deliveryId, attempt))),
        ENQUEUE_DEADLINE_MS,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await closeBullmq(this.queue, CLOSE_DEADLINE_MS);
  }
}
