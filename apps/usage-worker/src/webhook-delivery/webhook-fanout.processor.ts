import { FilterQuery, MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Worker } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { bullPrefix, DomainEvent, EVENTS_QUEUE, EventsJobData, EventType } from '@latchkey/contracts';
import { DeliveryStatus, IdPrefix, newId, WebhookDelivery, WebhookEndpoint } from '@latchkey/db';
import { closeBullmq } from '@latchkey/platform';

import { WebhookDeliveriesProducer } from './webhook-deliveries.producer';
import { DELIVERY_LOCK_MS, DELIVERY_STALLED_CHECK_MS } from './webhook-delivery.processor';

const FANOUT_CONCURRENCY = 10;

/**
 * Consumes EVENTS_QUEUE: one webhook_deliveries row per subscribed endpoint and a
 * first-attempt job per row. Idempotent: rows are inserted `on conflict do
 * nothing` and the jobs of every not-yet-attempted row are (re)added under their
 * attempt's job id, so an event fanned out twice (a redelivered job, a crash
 * between insert and enqueue) creates no second row and loses no first attempt.
 */
@Injectable()
export class WebhookFanoutProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookFanoutProcessor.name);
  private worker: Worker<EventsJobData> | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly orm: MikroORM,
    private readonly producer: WebhookDeliveriesProducer,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<EventsJobData>(EVENTS_QUEUE, (job: Job<EventsJobData>) => this.fanOut(job.data), {
      prefix: bullPrefix(this.config.get('REDIS_PREFIX')),
      connection: { url: this.config.get('REDIS_URL'), maxRetriesPerRequest: null },
      concurrency: FANOUT_CONCURRENCY,
      // A fan-out left by a crashed worker is picked up again within seconds (it is idempotent).
      lockDuration: DELIVERY_LOCK_MS,
      stalledInterval: DELIVERY_STALLED_CHECK_MS,
    });
    this.worker.on('failed', (job: Job<EventsJobData> | undefined, error: Error) =>
      this.logger.warn(`fan-out of ${job?.id ?? 'a job'} failed (attempt ${job?.attemptsMade ?? '?'}): ${error.message}`),
    );
    this.worker.on('error', (error: Error) => this.logger.debug(`redis: ${error.message}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await closeBullmq(this.worker);
  }

  /** Creates the event's deliveries and queues their first attempts; returns how many deliveries await one. */
  async fanOut(event: DomainEvent): Promise<number> {
    const em = this.orm.em.fork() as EntityManager;
    const endpoints = await em.find(WebhookEndpoint, subscribedTo(event), { fields: ['id'] });
    if (endpoints.length === 0) return 0;

    const now = new Date();
    const values = endpoints.map(() => `(?, ?, ?, ?, ?, ?::jsonb, 'pending', 0, ?, ?, ?)`).join(', ');
    const params = endpoints.flatMap((endpoint) => [
      newId(IdPrefix.Delivery),
      event.org_id,
      endpoint.id,
      event.id,
      event.type,
      JSON.stringify(event),
      now,
      now,
      now,
    ]);
    await em.execute(
      `insert into webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, payload, status, attempt_count, next_attempt_at, created_at, updated_at)
       values ${values} on conflict (endpoint_id, event_id) do nothing`,
      params,
    );
    const awaiting = await em.find(
      WebhookDelivery,
      { eventId: event.id, endpoint: { $in: endpoints.map((endpoint) => endpoint.id) }, status: DeliveryStatus.Pending, attemptCount: 0 },
      { fields: ['id'] },
    );
    await this.producer.enqueueFirstAttempts(awaiting.map((delivery) => delivery.id));
    return awaiting.length;
  }
}

/**
 * The org's endpoints that want this event: of its environment (an event with no
 * environment goes to both), subscribed to its type or to '*'. `webhook.test` goes
 * to the one endpoint it names, even a disabled one (its delivery then fails with a note).
 */
function subscribedTo(event: DomainEvent): FilterQuery<WebhookEndpoint> {
  const where: FilterQuery<WebhookEndpoint> & Record<string, unknown> = { organization: event.org_id };
  if (event.environment) where.environment = event.environment;
  if (event.type === EventType.WebhookTest) {
    const endpointId = event.data.endpoint_id;
    where.id = typeof endpointId === 'string' ? endpointId : '';
    return where;
  }
  where.disabledAt = null;
  where.events = { $overlap: [event.type, '*'] };
  return where;
}
