import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { domainEventJob, EVENTS_QUEUE, EventsJobData } from '@latchkey/contracts';
import { closeBullmq, createProducerQueue, withDeadline } from '@latchkey/platform';

/** How long one enqueue may take before the relay gives up on the batch (it rolls back and retries). */
const ENQUEUE_DEADLINE_MS = 5_000;
const CLOSE_DEADLINE_MS = 2_000;

/**
 * The typed producer of EVENTS_QUEUE. Each event becomes one job whose id is the
 * event id: BullMQ ignores an add whose id it already holds, which is what makes a
 * re-sent batch harmless. Calls fail (never hang) while Redis is away.
 */
@Injectable()
export class EventsQueueProducer implements OnApplicationShutdown {
  private readonly logger = new Logger(EventsQueueProducer.name);
  private readonly queue: Queue<EventsJobData>;
  /** An enqueue that outlived its deadline: the next one waits for it, so they never pile up during an outage. */
  private pending: Promise<void> | undefined;

  constructor(config: AppConfig) {
    this.queue = createProducerQueue<EventsJobData>(EVENTS_QUEUE, config, this.logger);
  }

  async enqueueEvents(events: EventsJobData[]): Promise<void> {
    if (events.length === 0) return;
    if (this.pending) await withDeadline(this.pending, ENQUEUE_DEADLINE_MS, 'an earlier enqueue is still waiting for Redis');
    const call = this.queue.addBulk(events.map(domainEventJob));
    const settled: Promise<void> = call.then(
      () => this.settle(settled),
      () => this.settle(settled),
    );
    this.pending = settled;
    await withDeadline(call, ENQUEUE_DEADLINE_MS, `enqueueing ${events.length} events took longer than ${ENQUEUE_DEADLINE_MS} ms`);
  }

  private settle(call: Promise<void>): void {
    if (this.pending === call) this.pending = undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    await closeBullmq(this.queue, CLOSE_DEADLINE_MS);
  }
}
