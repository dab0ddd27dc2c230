import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import { AppConfig } from '@latchkey/config';
import { WEBHOOK_DELIVERIES_QUEUE, webhookDeliveryJobId } from '@latchkey/contracts';
import { closeBullmq, createProducerQueue, WorkerHost } from '@latchkey/platform';

import { WebhookDeliveriesProducer } from './webhook-deliveries.producer';

/** The queue of the sweeper's own jobs (one scheduler, one job a minute); not the deliveries queue, so it never waits behind them. */
export const WEBHOOK_SWEEP_QUEUE = 'webhook-delivery-sweeps';
/** Also the scheduler's id: DO NOT CHANGE it, the stored scheduler refers to it. */
export const WEBHOOK_SWEEP_JOB = 'sweep-pending-deliveries';
export const WEBHOOK_SWEEP_EVERY_MS = 60_000;
/**
 * A pending delivery due longer ago than this should have been sent or re-held
 * already. Its job is looked up; re-adding one that exists is a no-op anyway, so
 * the margin only spares Redis the look-ups of deliveries queued moments ago.
 */
export const WEBHOOK_SWEEP_MARGIN_MS = 60_000;
const PAGE_SIZE = 500;
const CLOSE_DEADLINE_MS = 2_000;

/** A sweep job's data: the scheduler's jobs carry none (the default margin); a test may pass a margin. */
export interface SweepJobData {
  margin_ms?: number;
}

export interface SweepResult {
  /** Overdue pending deliveries looked at. */
  checked: number;
  /** Whose next attempt had no job: added again. */
  requeued: number;
  /** Whose next attempt's job had failed (BullMQ gave up on infrastructure errors): retried. */
  retried: number;
}

/**
 * The safety net under "a pending delivery always has a job". Jobs can go missing:
 * Redis restarted without its data, or an org-api retry/recover committed the row
 * but could not enqueue. A BullMQ job scheduler runs a sweep every minute (on
 * whichever worker process takes it, so one sweep at a time across processes); the
 * sweep walks the deliveries `pending` and overdue by more than the margin and
 * re-adds the job of each one's next attempt, webhookDeliveryJobId(id,
 * attempt_count + 1). That id is what every producer uses, so a job that exists
 * (waiting, delayed, held by a breaker, active) is left alone, and a sweep racing
 * the worker adds at most a job the worker then skips. A job BullMQ failed for good
 * (Postgres away through all its retries, or stalled twice by crashed workers) is
 * retried. The scheduler is kept by the WorkerHost schedule: re-upserted whenever the Redis
 * connection comes back, so a Redis that lost everything gets it again without a restart.
 */
@Injectable()
export class WebhookDeliverySweeper extends WorkerHost<SweepJobData, SweepResult> implements OnApplicationShutdown {
  private readonly deliveries: Queue;

  constructor(
    config: AppConfig,
    private readonly orm: MikroORM,
    private readonly producer: WebhookDeliveriesProducer,
  ) {
    super(config, {
      queue: WEBHOOK_SWEEP_QUEUE,
      jobLabel: 'sweep',
      concurrency: 1,
      schedule: { everyMs: WEBHOOK_SWEEP_EVERY_MS, jobName: WEBHOOK_SWEEP_JOB },
    });
    // Read (and its failed jobs retried) only; new delivery jobs go through the producer.
    this.deliveries = createProducerQueue(WEBHOOK_DELIVERIES_QUEUE, config, this.logger);
  }

  async onApplicationShutdown(): Promise<void> {
    await closeBullmq(this.deliveries, CLOSE_DEADLINE_MS);
  }

  process(job: Job<SweepJobData>): Promise<SweepResult> {
    return this.sweep(job.data?.margin_ms ?? WEBHOOK_SWEEP_MARGIN_MS);
  }

  /** One sweep over every pending delivery overdue by more than `marginMs`, in pages. */
  async sweep(marginMs = WEBHOOK_SWEEP_MARGIN_MS): Promise<SweepResult> {
    const result: SweepResult = { checked: 0, requeued: 0, retried: 0 };
    const em = this.orm.em.fork() as EntityManager;
    const before = new Date(Date.now() - marginMs);
    let after: { at: Date; id: string } | null = null;
    for (;;) {
      const rows: { id: string; attempt_count: number; next_attempt_at: Date }[] = await em.execute(
        `select id, attempt_count, next_attempt_at from webhook_deliveries
          where status = 'pending' and next_attempt_at < ?
            ${after ? 'and (next_attempt_at, id) > (?, ?)' : ''}
          order by next_attempt_at, id
          limit ${PAGE_SIZE}`,
        after ? [before, after.at, after.id] : [before],
      );
      if (rows.length === 0) break;
      const page = await this.requeueMissing(rows.map((row) => ({ id: row.id, attempt: Number(row.attempt_count) + 1 })));
      result.checked += rows.length;
      result.requeued += page.requeued;
      result.retried += page.retried;
      const last = rows[rows.length - 1];
      after = { at: new Date(last.next_attempt_at), id: last.id };
      if (rows.length < PAGE_SIZE) break;
    }
    if (result.requeued + result.retried > 0) {
      this.logger.warn(`sweep: ${result.requeued} pending deliveries had no job and ${result.retried} a failed one; queued again`);
    }
    return result;
  }

  /** One round trip to see which jobs exist and which failed, then the repairs. */
  private async requeueMissing(attempts: { id: string; attempt: number }[]): Promise<{ requeued: number; retried: number }> {
    const client = (await this.deliveries.client) as unknown as Redis;
    const failedKey = this.deliveries.toKey('failed');
    const pipeline = client.pipeline();
    const jobIds = attempts.map(({ id, attempt }) => webhookDeliveryJobId(id, attempt));
    for (const jobId of jobIds) pipeline.exists(this.deliveries.toKey(jobId)).zscore(failedKey, jobId);
    const replies = (await pipeline.exec()) ?? [];
    let requeued = 0;
    let retried = 0;
    for (const [index, attempt] of attempts.entries()) {
      const [existsError, exists] = replies[index * 2] ?? [];
      const [failedError, failedScore] = replies[index * 2 + 1] ?? [];
      const error = existsError ?? failedError;
      if (error) throw error instanceof Error ? error : new Error(String(error));
      if (Number(exists) === 0) {
        await this.producer.enqueueAttempt(attempt.id, attempt.attempt, 0);
        requeued += 1;
      } else if (failedScore !== null && failedScore !== undefined) {
        const job = await Job.fromId(this.deliveries, jobIds[index]);
        if (job) {
          await job.retry('failed');
          retried += 1;
        }
      }
    }
    return { requeued, retried };
  }
}
