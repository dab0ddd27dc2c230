import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Counter, Gauge } from 'prom-client';

import { AppConfig } from '@latchkey/config';
import { USAGE_BATCH_JOB, USAGE_QUEUE, usageBatchJob, UsageBatchJobData } from '@latchkey/contracts';
import { newUlid } from '@latchkey/ids';
import {
  closeBullmq,
  clusterNodesOf,
  createProducerQueue,
  MetricsService,
  RedisClient,
  waitForReplicas,
  withDeadline,
} from '@latchkey/platform';

import { PendingUsageEvent, UsageEventRing } from './usage-event-ring';

/** Tuning a deployment never needs; tests shrink it. */
export interface UsageEventBufferOptions {
  /** Events held at most (queued + in flight) while Redis is away; the oldest go first. */
  capacity?: number;
  /** How long a graceful stop may spend sending what is left. */
  shutdownDeadlineMs?: number;
}
export const USAGE_EVENT_BUFFER_OPTIONS = Symbol('USAGE_EVENT_BUFFER_OPTIONS');

export const USAGE_BUFFER_CAPACITY = 200_000;
const SHUTDOWN_DEADLINE_MS = 5_000;
/** For events emitted after the first shutdown flush (requests still finishing). */
const LATE_FLUSH_DEADLINE_MS = 1_000;
/** One enqueue may take this long before the batch counts as not sent (and is re-sent, same id). */
const SEND_DEADLINE_MS = 2_000;
const CLOSE_DEADLINE_MS = 2_000;
const STALE_CALL_MS = 30_000;
/** How long one WAIT for the replicas may take before the batch is sent again. */
const REPLICA_WAIT_MS = 1_000;
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2_000;
const WARN_INTERVAL_MS = 10_000;

type UsageQueue = Queue<UsageBatchJobData, void, typeof USAGE_BATCH_JOB>;

/**
 * Collects one usage event per check and sends them to USAGE_QUEUE as ONE job per
 * flush — when USAGE_BATCH_SIZE events are waiting, or USAGE_FLUSH_MS after the
 * first one — since a job per check halves verify throughput.
 *
 * Nothing is lost or counted twice when Redis blips: a batch gets its id (a ULID,
 * also the job id) before the first attempt and keeps it through every retry, so
 * BullMQ ignores a re-send of a batch that did land; while Redis is away events
 * wait in a bounded buffer (the oldest dropped, counted and logged, when full).
 * A graceful stop sends everything left within a deadline.
 */
@Injectable()
export class UsageEventBuffer implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(UsageEventBuffer.name);
  private readonly queue: UsageQueue;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly capacity: number;
  private readonly shutdownDeadlineMs: number;
  /** Replicas that must hold a batch before it counts as sent (a cluster only: USAGE_REPLICA_ACKS). */
  private readonly replicaAcks: number;

  private readonly pending = new UsageEventRing();
  /** The batch being sent: it keeps its id until it is on the queue. */
  private inFlight: UsageBatchJobData | undefined;
  /** An enqueue that outlived its deadline: a retry waits for it rather than piling up another. */
  private call: { batchId: string; startedAt: number; done: Promise<void> } | undefined;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The flush timer fired (or a stop began): send what is pending even if short of a batch. */
  private due = false;
  private kickScheduled = false;
  private closing = false;
  private closeBy = 0;
  private wake: (() => void) | undefined;
  private lastDropWarnAt = 0;
  private lastFailureWarnAt = 0;
  private lastUnreplicatedWarnAt = 0;

  private readonly droppedTotal: Counter;
  private readonly batchesSentTotal: Counter;
  private readonly unreplicatedTotal: Counter;

  constructor(
    config: AppConfig,
    metrics: MetricsService,
    @Optional() @Inject(USAGE_EVENT_BUFFER_OPTIONS) options?: UsageEventBufferOptions,
  ) {
    this.batchSize = config.get('USAGE_BATCH_SIZE');
    this.flushMs = config.get('USAGE_FLUSH_MS');
    this.capacity = Math.max(options?.capacity ?? USAGE_BUFFER_CAPACITY, this.batchSize);
    this.shutdownDeadlineMs = options?.shutdownDeadlineMs ?? SHUTDOWN_DEADLINE_MS;
    this.replicaAcks = clusterNodesOf(config) ? config.get('USAGE_REPLICA_ACKS') : 0;
    this.queue = createProducerQueue<UsageBatchJobData, void, typeof USAGE_BATCH_JOB>(USAGE_QUEUE, config, this.logger);

    const size = () => this.size;
    new Gauge({
      name: 'usage_events_buffered',
      help: 'Usage events waiting in auth-check to be sent to the usage queue.',
      registers: [metrics.registry],
      collect() {
        this.set(size());
      },
    });
    this.droppedTotal = new Counter({
      name: 'usage_events_dropped_total',
      help: 'Usage events dropped because the buffer was full (Redis away for too long).',
      registers: [metrics.registry],
    });
    this.unreplicatedTotal = new Counter({
      name: 'usage_batches_unreplicated_total',
      help: 'Usage batches sent while their Redis master had fewer replicas than USAGE_REPLICA_ACKS.',
      registers: [metrics.registry],
    });
    this.batchesSentTotal = new Counter({
      name: 'usage_batches_sent_total',
      help: 'Usage batches (one job each) put on the usage queue.',
      registers: [metrics.registry],
    });
  }

  /** Events held here: waiting plus the batch in flight. */
  get size(): number {
    return this.pending.length + (this.inFlight?.columns.at_ms.length ?? 0);
  }

  /** Records one check's event, stamped now. Synchronous and never throws: it is on every request's path. */
  emit(event: PendingUsageEvent): void {
    try {
      if (this.size >= this.capacity) {
        this.drop();
        // Nothing waiting to drop (all held is the batch in flight): the new event is the one to go.
        if (!this.pending.dropOldest()) return;
      }
      this.pending.push(event, Date.now());
      if (this.pending.length >= this.batchSize) this.kickSoon();
      else this.armTimer();
    } catch (error) {
      this.logger.error(`usage event not buffered: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Before Redis and the HTTP server close: send everything, within the deadline. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.flushAll(this.shutdownDeadlineMs);
  }

  async onApplicationShutdown(): Promise<void> {
    // Checks still answering while the stop began may have emitted after the first flush.
    if (this.size > 0) await this.flushAll(Math.min(LATE_FLUSH_DEADLINE_MS, this.shutdownDeadlineMs));
    if (this.size > 0) this.logger.error(`${this.size} usage events were not sent before shutdown (Redis unreachable)`);
    await closeBullmq(this.queue, CLOSE_DEADLINE_MS);
  }

  private async flushAll(deadlineMs: number): Promise<void> {
    this.closing = true;
    this.closeBy = Date.now() + deadlineMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = true;
    this.wake?.();
    this.kick();
    await this.loop;
  }

  private drop(): void {
    this.droppedTotal.inc();
    const now = Date.now();
    if (now - this.lastDropWarnAt >= WARN_INTERVAL_MS) {
      this.lastDropWarnAt = now;
      this.logger.warn(`usage buffer full (${this.capacity} events): dropping the oldest until Redis takes batches again`);
    }
  }

  private armTimer(): void {
    if (this.timer || this.loop || this.closing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      this.kick();
    }, this.flushMs);
    this.timer.unref();
  }

  /**
   * Sends a full batch right after the current turn: building and enqueueing 500 events
   * takes a millisecond or two, which the check that filled the batch would otherwise
   * wait for before its answer is written.
   */
  private kickSoon(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.kick();
    });
  }

  private kick(): void {
    if (this.loop) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      if (this.pending.length > 0 && !this.closing) this.armTimer();
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    for (;;) {
      if (!this.inFlight) {
        const waiting = this.pending.length;
        if (waiting === 0 || (waiting < this.batchSize && !this.due && !this.closing)) return;
        this.inFlight = { batch_id: newUlid(), columns: this.pending.take(this.batchSize) };
        if (this.pending.length === 0) this.due = false;
      }
      try {
        await this.send(this.inFlight);
        this.inFlight = undefined;
        this.batchesSentTotal.inc();
        if (failures > 0) this.logger.log(`usage queue reachable again after ${failures} failed attempts`);
        failures = 0;
      } catch (error) {
        failures += 1;
        if (this.closing && Date.now() >= this.closeBy) return;
        const delay = Math.min(RETRY_BASE_MS * 2 ** (failures - 1), RETRY_MAX_MS);
        this.warnFailure(failures, delay, error);
        await this.sleep(this.closing ? Math.min(delay, Math.max(0, this.closeBy - Date.now())) : delay);
      }
    }
  }

  private async send(batch: UsageBatchJobData): Promise<void> {
    let call = this.call;
    // A call still waiting (Redis frozen) is awaited again rather than doubled, unless it looks
    // lost (a half-open connection): then the batch is added again, under the same id.
    if (!call || call.batchId !== batch.batch_id || Date.now() - call.startedAt > STALE_CALL_MS) {
      const job = usageBatchJob(batch);
      const added = this.queue.add(job.name, job.data, job.opts);
      const started = { batchId: batch.batch_id, startedAt: Date.now(), done: added.then(() => undefined) };
      const forget = () => {
        if (this.call === started) this.call = undefined;
      };
      started.done.then(forget, forget);
      this.call = call = started;
    }
    const deadline = this.closing ? Math.max(1, Math.min(SEND_DEADLINE_MS, this.closeBy - Date.now())) : SEND_DEADLINE_MS;
    await withDeadline(call.done, deadline, `enqueueing a usage batch took longer than ${deadline} ms`);
    if (this.replicaAcks > 0) await this.awaitReplicas(deadline);
  }

  /**
   * A master acknowledges a write before its replicas have it: if it fails then, the
   * promoted replica has no batch. So the batch stays held (and is re-sent, under the same
   * id: a no-op where it landed) until USAGE_REPLICA_ACKS replicas hold it, or all the
   * master has now (after a failover, until its new replica syncs, that may be none).
   */
  private async awaitReplicas(deadlineMs: number): Promise<void> {
    // BullMQ hands out a proxy of the ioredis client it was given; commands reach the same connections.
    const client = (await this.queue.client) as unknown as RedisClient;
    const { held, connected } = await waitForReplicas(
      client,
      this.queue.toKey('id'),
      this.replicaAcks,
      Math.min(REPLICA_WAIT_MS, deadlineMs),
    );
    if (held >= this.replicaAcks) return;
    // A connected replica is still catching up: send again, and wait again.
    if (held < connected) throw new Error(`the usage batch is on ${held} of ${this.replicaAcks} replicas`);
    // Every replica the master has holds it, but it has fewer than asked for: waiting cannot help.
    this.unreplicatedTotal.inc();
    this.warnUnreplicated();
  }

  private warnUnreplicated(): void {
    const now = Date.now();
    if (now - this.lastUnreplicatedWarnAt < WARN_INTERVAL_MS) return;
    this.lastUnreplicatedWarnAt = now;
    this.logger.warn(
      `the usage queue's Redis master has fewer replicas than USAGE_REPLICA_ACKS (${this.replicaAcks}): batches are sent on what it has`,
    );
  }

  private warnFailure(failures: number, delay: number, error: unknown): void {
    const now = Date.now();
    if (failures > 1 && now - this.lastFailureWarnAt < WARN_INTERVAL_MS) return;
    this.lastFailureWarnAt = now;
    this.logger.warn(
      `usage batch not sent (attempt ${failures}, ${this.size} events held), retrying in ${delay} ms: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  /** Waits, unless a stop wakes it first. */
  private sleep(ms: number): Promise<void> {
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
