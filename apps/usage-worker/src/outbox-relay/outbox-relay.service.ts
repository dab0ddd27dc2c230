import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';

import { AppConfig } from '@latchkey/config';
import { DomainEvent, EventsJobData, EventType } from '@latchkey/contracts';
import { OutboxEvent } from '@latchkey/db';
import { errorMessageForLog, MetricsService } from '@latchkey/platform';

import { EventsQueueProducer } from './events-queue.producer';
import { OutboxListener } from './outbox-listener';

/** Events per claim: one statement and one Redis pipeline, so a burst of commits crosses in a few round trips. */
export const RELAY_BATCH_SIZE = 500;
/** Polling while the LISTEN connection is down: notifications cannot arrive, so the relay looks often. */
const POLL_INTERVAL_MS = 200;
/** Polling while listening: only a backstop, since every commit of outbox rows notifies the relay at once. */
const POLL_BACKSTOP_MS = 1_000;
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
 *  - on shutdown the loop stops taking batches but finishes the one in hand;
 *  - it wakes on the NOTIFY the outbox insert sends at commit (OutboxListener), so
 *    an event is relayed within a round trip of its commit; polling is the backstop.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelayService.name);
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly relayedTotal: Counter;
  private readonly failuresTotal: Counter;
  private readonly wakeupsTotal: Counter<'reason'>;
  private readonly listener: OutboxListener;
  /** A notification that came while a batch was running: the loop goes again instead of sleeping. */
  private notified = false;

  constructor(
    config: AppConfig,
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
    this.wakeupsTotal = new Counter({
      name: 'outbox_relay_wakeups_total',
      help: 'What woke the relay: a commit notification (counted even mid-pass, which then goes again at once), the listener (re)connecting, or the poll timer.',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
    // LISTEN belongs to a session: a transaction-mode pooler would drop it with the transaction.
    this.listener = new OutboxListener(config.get('DATABASE_DIRECT_URL'), (why) => this.onNotify(why));
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
    this.listener.start();
    this.loop = this.run();
  }

  /** Before the database and Redis connections close (their own shutdown hooks come later). */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener.stop();
  }

  /** Relays one batch; returns how many events it relayed. Throws when Redis or Postgres fails. */
  async relayBatch(): Promise<number> {
    const em = this.orm.em.fork() as EntityManager;
    const relayed = await em.transactional(async (tx) => {
      // Claim and mark in one statement; the mark only counts if the transaction commits, after the enqueue.
      const rows: OutboxRow[] = await tx.execute(
        `update outbox_events o set relayed_at = ?
           from (select id from outbox_events where relayed_at is null order by id limit ? for update skip locked) claimed
          where o.id = claimed.id
          returning o.id, o.org_id, o.environment, o.type, o.data, o.created_at`,
        [new Date(), RELAY_BATCH_SIZE],
      );
      if (rows.length === 0) return 0;
      // RETURNING has no order; ids are ULIDs, so sorting them restores commit order.
      rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      await this.producer.enqueueEvents(rows.map(toEnvelope));
      return rows.length;
    });
    if (relayed > 0) this.relayedTotal.inc(relayed);
    return relayed;
  }

  private onNotify(why: 'notify' | 'listening'): void {
    // Counted whether the relay slept or was mid-pass (then it goes again at once).
    this.wakeupsTotal.inc({ reason: why });
    this.notified = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.notified = false;
      let relayed = 0;
      try {
        relayed = await this.relayBatch();
        if (failures > 0) this.logger.log(`outbox relay recovered after ${failures} failed attempts`);
        failures = 0;
      } catch (error) {
        failures += 1;
        this.failuresTotal.inc();
        const delay = Math.min(POLL_INTERVAL_MS * 2 ** failures, MAX_BACKOFF_MS);
        this.logger.warn(`outbox relay failed (attempt ${failures}), retrying in ${delay} ms: ${errorMessageForLog(error)}`);
        await this.sleep(delay);
        continue;
      }
      // A full batch, or a commit notified during this one, means more may be waiting: go again at once.
      if (relayed < RELAY_BATCH_SIZE && !this.notified) {
        if (await this.sleep(this.listener.listening ? POLL_BACKSTOP_MS : POLL_INTERVAL_MS)) this.wakeupsTotal.inc({ reason: 'poll' });
      }
    }
  }

  /** Waits, unless a notification or shutdown wakes it first; true when the full time passed. */
  private sleep(ms: number): Promise<boolean> {
    if (!this.running) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (timedOut: boolean) => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(timedOut);
      };
      const timer = setTimeout(() => finish(true), ms);
      this.wake = () => finish(false);
    });
  }
}

interface OutboxRow {
  id: string;
  org_id: string;
  environment: string | null;
  type: string;
  data: Record<string, unknown> | string;
  created_at: Date | string;
}

export function toEnvelope(row: OutboxRow): EventsJobData {
  const event: DomainEvent = {
    id: row.id,
    type: row.type as EventType,
    created_at: new Date(row.created_at).toISOString(),
    org_id: row.org_id,
    environment: row.environment as DomainEvent['environment'],
    data: typeof row.data === 'string' ? (JSON.parse(row.data) as Record<string, unknown>) : row.data,
  };
  return event;
}
