import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { WEBHOOK_DELIVERIES_QUEUE, webhookDeliveryJob, WebhookDeliveryJobData } from '@latchkey/contracts';
import { closeBullmq, createProducerQueue } from '@latchkey/platform';

const CLOSE_DEADLINE_MS = 2_000;

/** The typed producer of WEBHOOK_DELIVERIES_QUEUE; the job id names the attempt, so scheduling it twice adds one job. */
@Injectable()
export class WebhookDeliveriesProducer implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveriesProducer.name);
  private readonly queue: Queue<WebhookDeliveryJobData>;

  constructor(config: AppConfig) {
    this.queue = createProducerQueue<WebhookDeliveryJobData>(WEBHOOK_DELIVERIES_QUEUE, config, this.logger);
  }

  /** First attempts of new deliveries, at once. */
  async enqueueFirstAttempts(deliveryIds: string[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.queue.addBulk(deliveryIds.map((id) => webhookDeliveryJob(id, 1)));
  }

  async enqueueAttempt(deliveryId: string, attempt: number, delayMs: number): Promise<void> {
    const job = webhookDeliveryJob(deliveryId, attempt, delayMs);
    await this.queue.add(job.name, job.data, job.opts);
  }

  async onApplicationShutdown(): Promise<void> {
    await closeBullmq(this.queue, CLOSE_DEADLINE_MS);
  }
}
