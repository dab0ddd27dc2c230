import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Job } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { DomainEvent, EVENTS_QUEUE, EventsJobData, EventType } from '@latchkey/contracts';
import { IdPrefix, newId } from '@latchkey/ids';
import { WorkerHost } from '@latchkey/platform';

import { ReminderMailsProducer } from '../reminder-mail/reminder-mails.producer';
import { WebhookDeliveriesProducer } from './webhook-deliveries.producer';
import { DELIVERY_CONCURRENCY, DELIVERY_LOCK_MS, DELIVERY_STALLED_CHECK_MS } from './webhook-delivery.processor';

/**
 * Events fanned out at once. A fan-out is two statements and a queue add, all waiting
 * on I/O; at 10 it was the bottleneck of a burst to one endpoint (deliveries waited
 * seconds for their rows), at the delivery worker's concurrency the two keep pace.
 */
const FANOUT_CONCURRENCY = DELIVERY_CONCURRENCY;

/**
 * Consumes EVENTS_QUEUE: one webhook_deliveries row per subscribed endpoint and a
 * first-attempt job per row. Idempotent: rows are inserted `on conflict do
 * nothing` and the jobs of every not-yet-attempted row are (re)added under their
 * attempt's job id, so an event fanned out twice (a redelivered job, a crash
 * between insert and enqueue) creates no second row and loses no first attempt.
 */
@Injectable()
export class WebhookFanoutProcessor extends WorkerHost<EventsJobData, void> {
  constructor(
    config: AppConfig,
    private readonly orm: MikroORM,
    private readonly producer: WebhookDeliveriesProducer,
    private readonly reminderMails: ReminderMailsProducer,
  ) {
    super(config, {
      queue: EVENTS_QUEUE,
      jobLabel: 'fan-out of',
      concurrency: FANOUT_CONCURRENCY,
      // A fan-out left by a crashed worker is picked up again within seconds (it is idempotent).
      lockDurationMs: DELIVERY_LOCK_MS,
      stalledIntervalMs: DELIVERY_STALLED_CHECK_MS,
    });
  }

  process(job: Job<EventsJobData>): Promise<void> {
    return this.handle(job.data);
  }

  /**
   * Everything an event sets off: its webhook deliveries, then, for an expiry or
   * rotation reminder, its mails. Both steps are idempotent, so an events job retried
   * after either failed (or after a crash) redoes them without duplicates.
   */
  async handle(event: DomainEvent): Promise<void> {
    await this.fanOut(event);
    await this.reminderMails.enqueueFor(event);
  }

  /**
   * Creates the event's deliveries and queues their first attempts; returns how many
   * deliveries await one. Two statements in plain SQL (this runs once per event, so the
   * ORM's query building is left out): the subscribed endpoints, then one statement that
   * inserts what is missing and answers every delivery of the event still waiting for
   * its first attempt. Its SELECT sees the table as it was before the INSERT, so a row
   * comes back once: from the INSERT when new, from the SELECT when an earlier run
   * inserted it (and perhaps crashed before queueing it).
   */
  async fanOut(event: DomainEvent): Promise<number> {
    const em = this.orm.em.fork() as EntityManager;
    const endpointIds = await subscribedEndpoints(em, event);
    if (endpointIds.length === 0) return 0;

    const now = new Date();
    const values = endpointIds.map(() => `(?, ?, ?, ?, ?, ?::jsonb, 'pending', 0, ?, ?, ?)`).join(', ');
    const payload = JSON.stringify(event);
    const params = endpointIds.flatMap((endpointId) => [
      newId(IdPrefix.Delivery),
      event.org_id,
      endpointId,
      event.id,
      event.type,
      payload,
      now,
      now,
      now,
    ]);
    const awaiting: { id: string }[] = await em.execute(
      `with inserted as (
         insert into webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, payload, status, attempt_count, next_attempt_at, created_at, updated_at)
         values ${values} on conflict (endpoint_id, event_id) do nothing
         returning id
       )
       select id from inserted
       union all
       select id from webhook_deliveries
        where event_id = ? and endpoint_id in (${endpointIds.map(() => '?').join(', ')}) and status = 'pending' and attempt_count = 0`,
      [...params, event.id, ...endpointIds],
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
async function subscribedEndpoints(em: EntityManager, event: DomainEvent): Promise<string[]> {
  const where = ['organization_id = ?'];
  const params: unknown[] = [event.org_id];
  if (event.environment) {
    where.push('environment = ?');
    params.push(event.environment);
  }
  if (event.type === EventType.WebhookTest) {
    const endpointId = event.data.endpoint_id;
    where.push('id = ?');
    params.push(typeof endpointId === 'string' ? endpointId : '');
  } else {
    where.push(`disabled_at is null`, `(? = any(events) or '*' = any(events))`);
    params.push(event.type);
  }
  const rows: { id: string }[] = await em.execute(`select id from webhook_endpoints where ${where.join(' and ')}`, params);
  return rows.map((row) => row.id);
}
