import { setImmediate as nextTurn } from 'node:timers/promises';

import { Injectable } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { Counter, Histogram } from 'prom-client';

import { AppConfig } from '@latchkey/config';
import { USAGE_BATCH_JOB, USAGE_QUEUE, UsageBatchJobData } from '@latchkey/contracts';
import { MetricsService, WorkerHost } from '@latchkey/platform';

import { AnomalyDetector } from '../anomalies/anomaly-detector.service';
import { QuotaWatcher } from '../reminders/quota-watcher.service';
import { legacyUsageBatch, MalformedUsageBatchError, parseUsageBatch } from './usage-batch';
import { UsageLedgerService } from './usage-ledger.service';

/** Batches written at once by one process (each is its own transaction). */
const CONCURRENCY = 4;
/** On shutdown, how long the batches in hand may take; after that they are left to BullMQ's stall check (and redelivered). */
const CLOSE_DEADLINE_MS = 10_000;
/**
 * Stalled batches (their worker died: SIGKILL, OOM, lost host) go back to the queue
 * once their lock lapses, found by a check every STALLED_INTERVAL_MS: a dead worker's
 * batches are counted by another within about LOCK_DURATION_MS + 2 × STALLED_INTERVAL_MS
 * (BullMQ's defaults, 30 s + 2 × 30 s, left them out for up to a minute and a half).
 * The lock is renewed every LOCK_DURATION_MS / 2 while a batch is written.
 */
const LOCK_DURATION_MS = 15_000;
const STALLED_INTERVAL_MS = 5_000;
/**
 * A batch is counted exactly once however often it is redelivered (the ledger), so a
 * batch that stalls again (a second crash) is retried rather than parked as failed —
 * BullMQ's default of 1 would fail it, and a failed batch is never counted.
 */
const MAX_STALLED_COUNT = 20;

/**
 * The consumer of USAGE_QUEUE: each usage batch is counted exactly once by
 * UsageLedgerService (its batch id is recorded in the transaction that counts it),
 * so BullMQ's at-least-once delivery — retries with back-off, stalled jobs taken
 * over, a worker killed mid-batch — never counts a check twice or loses one.
 */
@Injectable()
export class RecordUsageProcessor extends WorkerHost<UsageBatchJobData, void> {
  private readonly batchesTotal: Counter<'outcome'>;
  private readonly eventsTotal: Counter;
  private readonly rejectedTotal: Counter;
  private readonly quarantinedTotal: Counter;
  private readonly parkedTotal: Counter;
  private readonly failuresTotal: Counter;
  private readonly lag: Histogram;

  constructor(
    config: AppConfig,
    private readonly ledger: UsageLedgerService,
    private readonly anomalies: AnomalyDetector,
    private readonly quotas: QuotaWatcher,
    metrics: MetricsService,
  ) {
    // A failed batch stays in the queue for its retries (USAGE_JOB_OPTIONS).
    super(config, {
      queue: USAGE_QUEUE,
      jobLabel: 'usage batch',
      concurrency: CONCURRENCY,
      lockDurationMs: LOCK_DURATION_MS,
      stalledIntervalMs: STALLED_INTERVAL_MS,
      maxStalledCount: MAX_STALLED_COUNT,
      closeDeadlineMs: CLOSE_DEADLINE_MS,
    });
    const registers = [metrics.registry];
    this.batchesTotal = new Counter({
      name: 'usage_batches_processed_total',
      help: 'Usage batches processed: counted, or duplicate (already counted, acknowledged without counting).',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.eventsTotal = new Counter({ name: 'usage_events_counted_total', help: 'Key checks counted (exactly once each).', registers });
    this.rejectedTotal = new Counter({
      name: 'usage_events_rejected_total',
      help: 'Usage events dropped because they broke the job contract.',
      registers,
    });
    this.quarantinedTotal = new Counter({
      name: 'usage_events_quarantined_total',
      help: 'Usage events Postgres refuses, set aside in usage_quarantined_events instead of failing their batch.',
      registers,
    });
    this.parkedTotal = new Counter({
      name: 'usage_batches_parked_total',
      help: 'Usage batches of the pre-columns form (an event list), parked in the usage quarantine and not counted.',
      registers,
    });
    this.failuresTotal = new Counter({
      name: 'usage_batch_failures_total',
      help: 'Usage batch attempts that failed and will be retried (or, when malformed, parked as failed).',
      registers,
    });
    this.lag = new Histogram({
      name: 'usage_processing_lag_seconds',
      help: 'Time from a key check to its counting.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
  }

  protected override onFailed(): void {
    this.failuresTotal.inc();
  }

  async process(job: Job<UsageBatchJobData>): Promise<void> {
    if (job.name !== USAGE_BATCH_JOB) throw new UnrecoverableError(`unknown job ${job.name} on ${USAGE_QUEUE}`);
    const legacy = legacyUsageBatch(job.data);
    if (legacy) {
      // Left in the queue by an upgrade that did not drain it first: kept for the operator, not failed.
      const kept = await this.ledger.parkLegacyBatch(legacy);
      this.parkedTotal.inc();
      this.logger.warn(
        `usage batch ${legacy.batchId} is of the pre-columns form: parked ${kept} events in the usage quarantine, not counted`,
      );
      return;
    }
    let batch;
    try {
      batch = parseUsageBatch(job.data);
    } catch (error) {
      // Parked in the failed set (removeOnFail: false) for an operator: a retry cannot fix it.
      if (error instanceof MalformedUsageBatchError) throw new UnrecoverableError(error.message);
      throw error;
    }
    if (batch.rejected > 0) {
      this.logger.warn(`usage batch ${batch.batchId}: dropped ${batch.rejected} events that break the contract`);
    }
    // Each step of a batch runs in a turn of its own: in the all-in-one process the key
    // checks queued meanwhile are answered between them, not after the whole batch.
    await nextTurn();
    const recorded = await this.ledger.record(batch);
    if (!recorded.counted) {
      this.batchesTotal.inc({ outcome: 'duplicate' });
      return;
    }
    const countedAt = Date.now();
    this.batchesTotal.inc({ outcome: 'counted' });
    this.eventsTotal.inc(recorded.events.length);
    if (batch.rejected > 0) this.rejectedTotal.inc(batch.rejected);
    if (recorded.quarantined.length > 0) {
      this.quarantinedTotal.inc(recorded.quarantined.length);
      const reasons = [...new Set(recorded.quarantined.map((q) => q.reason))].join('; ');
      this.logger.warn(`usage batch ${batch.batchId}: quarantined ${recorded.quarantined.length} events Postgres refuses (${reasons})`);
    }
    for (const event of recorded.events) this.lag.observe(Math.max(0, (countedAt - event.atDate.getTime()) / 1000));
    await nextTurn();
    // Anomaly detection and quota notices see each batch once, after it is counted. Both are
    // best effort and never throw: a throw here would retry a batch that is already counted.
    await Promise.all([this.anomalies.observe(recorded.events), this.quotas.observe(recorded.events)]);
  }
}
