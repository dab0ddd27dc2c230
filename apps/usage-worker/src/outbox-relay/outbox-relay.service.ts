import { LockMode, MikroORM, QueryOrder } from '@mikro-orm/core';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';

import { DomainEvent, EventsJobData, EventType } from '@latchkey/contracts';
import { OutboxEvent } from '@latchkey/db';
import { MetricsService } from '@latchkey/platform';

import { EventsQueueProducer } from './events-queue.producer';

export const RELAY_BATCH_SIZE = 100;
const POLL_INTERVAL_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/**
 * Copies committed outbox rows to EVENTS_QUEUE, in id order, each exactly once:
 *  - rows are taken `for update skip locked`, so relays running side by side
 *    (several worker processes) each take different rows;
 *  - rows are marked relayed in the same transaction that took them, after the
 *    enqueue; a relay killed in between leaves them unrelayed and they are sent
 *    again, which BullMQ ignores because the job id is the event id;
 *  - when Redis (or Postgres) is away the transaction rolls back, the rows wait,
 *    and the loop retries with back-off: an outage only delays events;
 *  - on shutdown the loop stops taking batches but finishes the one in hand.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelayService.name);
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly relayedTotal: Counter;
  private readonly failuresTotal: Counter;

  constructor(
    private readonly orm: MikroORM,
    private readonly producer: EventsQueueProducer,
    metrics: MetricsService,
  ) {
    this.relayedTotal = new Counter({
      name: 'outbox_relayed_total',
      help: 'Domain events copied from the outbox to the events queue.',
      registers: [metrics.registry],
    });
    this.failuresTotal = new Counter({
      name: 'outbox_relay_failures_total',
      help: 'Relay batches that failed (Redis or Postgres unavailable) and will be retried.',
      registers: [metrics.registry],
    });
    const countUnrelayed = () => this.orm.em.fork().count(OutboxEvent, { relayedAt: null });
    new Gauge({
      name: 'outbox_unrelayed_events',
      help: 'Domain events committed but not yet on the events queue.',
      registers: [metrics.registry],
      async collect() {
        // A scrape during a database outage keeps the last value rather than failing /metrics.
        await countUnrelayed().then(
          (count) => this.set(count),
          () => undefined,
        );
      },
    });
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Before the database and Redis connections close (their own shutdown hooks come later). */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Relays one batch; returns how many events it relayed. Throws when Redis or Postgres fails. */
  async relayBatch(): Promise<number> {
    const em = this.orm.em.fork();
    const relayed = await em.transactional(async (tx) => {
      const rows = await tx.find(
        OutboxEvent,
        { relayedAt: null },
        { orderBy: { id: QueryOrder.ASC }, limit: RELAY_BATCH_SIZE, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      if (rows.length === 0) return 0;
      await this.producer.enqueueEvents(rows.map(toEnvelope));
      await tx.nativeUpdate(OutboxEvent, { id: { $in: rows.map((row) => row.id) } }, { relayedAt: new Date() });
      return rows.length;
    });
    if (relayed > 0) this.relayedTotal.inc(relayed);
    return relayed;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let relayed = 0;
      try {
        relayed = await this.relayBatch();
        if (failures > 0) this.logger.log(`outbox relay recovered after ${failures} failed attempts`);
        failures = 0;
      } catch (error) {
        failures += 1;
        this.failuresTotal.inc();
        const delay = Math.min(POLL_INTERVAL_MS * 2 ** failures, MAX_BACKOFF_MS);
        this.logger.warn(`outbox relay failed (attempt ${failures}), retrying in ${delay} ms: ${(error as Error).message}`);
        await this.sleep(delay);
        continue;
      }
      // A full batch means more may be waiting: go again at once.
      if (relayed < RELAY_BATCH_SIZE) await this.sleep(POLL_INTERVAL_MS);
    }
  }

  /** Waits, unless shutdown wakes it first. */
  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = finish;
    });
  }
}

export function toEnvelope(row: OutboxEvent): EventsJobData {
  const event: DomainEvent = {
    id: row.id,
    type: row.type as EventType,
    created_at: row.createdAt.toISOString(),
    org_id: row.orgId,
    environment: row.environment as DomainEvent['environment'],
    data: row.data,
  };
  return event;
}
