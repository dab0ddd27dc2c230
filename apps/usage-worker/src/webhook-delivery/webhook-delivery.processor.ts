import type { Agent } from 'node:http';

import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';

import { AppConfig } from '@latchkey/config';
import { WEBHOOK_DELIVERIES_QUEUE, webhookDeliveryAttemptOf, WebhookDeliveryJobData } from '@latchkey/contracts';
import { SecretBox, webhookHeaders } from '@latchkey/crypto';
import { DeliveryStatus } from '@latchkey/db';
import { RedisService, takeRateLimit, WorkerHost } from '@latchkey/platform';

import { AttemptEntry, AttemptRecord, EndpointHealth, recordAttempts } from './delivery-attempt-log';
import { DeliveryToSend, EndpointToSend, loadDeliveriesToSend } from './delivery-to-send';
import { EndpointAgents } from './endpoint-agents';
import { EndpointBreakers, isBreakerRejection } from './endpoint-breakers';
import { EndpointDisabling } from './endpoint-disabling';
import { EndpointSlots } from './endpoint-slots';
import { breakerResetTimeoutMs, retryDelayMs } from './retry-schedule';
import { TickBatcher } from './tick-batcher';
import { WebhookDeliveriesProducer } from './webhook-deliveries.producer';
import { DeliveryOutcome, WebhookDeliveryMetrics } from './webhook-delivery.metrics';
import { postWebhook, SendResult } from './webhook-sender';

/**
 * Jobs sent at once by one process; with the per-endpoint cap, one slow endpoint can
 * take only a few of them. More does not help a burst: each job's two statements
 * already keep the database pool (10 connections) busy.
 */
export const DELIVERY_CONCURRENCY = 32;
/** Sends in flight to one endpoint from one process; also the sockets of its keep-alive agent. */
export const MAX_IN_FLIGHT_PER_ENDPOINT = 8;
/** Idle keep-alive sockets close after this (under the 5 s Node servers keep them). */
const FREE_SOCKET_TIMEOUT_MS = 4_000;
/** An endpoint's agent unused this long is destroyed (the endpoint may be gone). */
const AGENT_IDLE_MS = 60_000;
/** Agents kept at most: beyond, idle ones are destroyed least recently used first. */
const MAX_AGENTS = 1_000;
/** How long a job waits in-process for one of its endpoint's slots before it steps aside (moved back to delayed). */
const SLOT_WAIT_MS = 1_000;
/** An endpoint with every slot busy and no send finished for this long is treated as slow: its jobs step aside at once. */
const SLOT_STUCK_MS = 500;
const THROTTLE_HOLD_MS = 1_000;
/**
 * A worker that dies mid-attempt holds its jobs' locks until they expire; BullMQ's
 * stalled check then hands them to another worker (the attempt is sent again, same
 * webhook-id). The lock is renewed every half of this, so an attempt of up to 10 s
 * never loses it; a short lock means a crash delays deliveries by seconds, not a minute.
 */
export const DELIVERY_LOCK_MS = 10_000;
export const DELIVERY_STALLED_CHECK_MS = 5_000;

class FailedSend extends Error {
  constructor(readonly result: SendResult) {
    super(result.error ?? `HTTP ${result.statusCode}`);
  }
}

/**
 * Consumes WEBHOOK_DELIVERIES_QUEUE: one job is one attempt of one delivery, its
 * job id `…-a<attempt>`. Each HTTP attempt is recorded; a failure schedules the
 * next attempt as a delayed job on WEBHOOK_RETRY_SCHEDULE (retry-schedule.ts), and
 * a 410 or a long enough run of failures disables the endpoint
 * (endpoint-disabling.ts). Jobs for an attempt
 * already recorded (a duplicate, or a crash after recording) only make sure the
 * next one is queued. While an endpoint's breaker is open, or its rate limit or
 * in-flight cap is reached, the job is moved back to delayed as it is: nothing is
 * sent, no attempt is counted, nothing is lost.
 */
@Injectable()
export class WebhookDeliveryProcessor extends WorkerHost<WebhookDeliveryJobData, DeliveryOutcome> {
  private readonly box: SecretBox;
  private readonly breakers: EndpointBreakers;
  private readonly slots = new EndpointSlots(MAX_IN_FLIGHT_PER_ENDPOINT, SLOT_STUCK_MS);
  private readonly agents: EndpointAgents;
  private readonly schedule: number[];
  /** The attempts of one event-loop turn load their deliveries in one query, and record their outcomes in one statement. */
  private readonly loads = new TickBatcher<string, DeliveryToSend | null>(
    (ids) => loadDeliveriesToSend(this.orm.em.fork() as EntityManager, ids),
    DELIVERY_CONCURRENCY,
  );
  private readonly attemptLog = new TickBatcher<AttemptRecord, void>(
    async (records) => {
      await recordAttempts(this.orm.em.fork() as EntityManager, records);
      return records.map(() => undefined);
    },
    DELIVERY_CONCURRENCY,
    // A failed record fails its own job (retried), never the other orgs' deliveries in its batch.
    { isolateFailures: true },
  );

  constructor(
    private readonly config: AppConfig,
    private readonly disabling: EndpointDisabling,
    private readonly metrics: WebhookDeliveryMetrics,
    private readonly orm: MikroORM,
    private readonly producer: WebhookDeliveriesProducer,
    private readonly redis: RedisService,
  ) {
    super(config, {
      queue: WEBHOOK_DELIVERIES_QUEUE,
      jobLabel: 'delivery job',
      concurrency: DELIVERY_CONCURRENCY,
      lockDurationMs: DELIVERY_LOCK_MS,
      stalledIntervalMs: DELIVERY_STALLED_CHECK_MS,
    });
    this.box = new SecretBox(config.get('ENCRYPTION_KEY'));
    this.schedule = config.get('webhookRetryScheduleMs');
    this.breakers = new EndpointBreakers(
      {
        resetTimeoutMs: breakerResetTimeoutMs(this.schedule),
        volumeThreshold: 5,
        errorThresholdPercentage: 50,
        rollingCountTimeoutMs: 30_000,
      },
      (endpointId, state) => this.logger.log(`breaker of ${endpointId}: ${state}`),
    );
    metrics.countOpenBreakersWith(() => this.breakers.openCount());
    this.agents = new EndpointAgents({
      maxSockets: MAX_IN_FLIGHT_PER_ENDPOINT,
      freeSocketTimeoutMs: FREE_SOCKET_TIMEOUT_MS,
      idleMs: AGENT_IDLE_MS,
      maxAgents: MAX_AGENTS,
    });
  }

  override async beforeApplicationShutdown(): Promise<void> {
    await super.beforeApplicationShutdown();
    this.breakers.shutdown();
    this.agents.closeAll();
  }

  /** True while the endpoint's breaker (in this process) is open or half-open. */
  breakerOpen(endpointId: string): boolean {
    return this.breakers.isOpen(endpointId);
  }

  /** True while this process keeps a keep-alive agent (and maybe open connections) for the endpoint. */
  hasAgent(endpointId: string): boolean {
    return this.agents.has(endpointId);
  }

  async process(job: Job<WebhookDeliveryJobData>, token: string | undefined): Promise<DeliveryOutcome> {
    const delivery = await this.loads.call(job.data.delivery_id);
    // Gone with its endpoint (cascade), or already delivered.
    if (!delivery || delivery.status === DeliveryStatus.Succeeded) return this.count('skipped');
    const attempt = webhookDeliveryAttemptOf(job.id) ?? delivery.attemptCount + 1;
    if (attempt <= delivery.attemptCount) {
      if (delivery.status === DeliveryStatus.Pending) {
        const due = delivery.nextAttemptAt ? delivery.nextAttemptAt.getTime() - Date.now() : 0;
        await this.producer.enqueueAttempt(delivery.id, delivery.attemptCount + 1, due);
      }
      return this.count('skipped');
    }
    const endpoint = delivery.endpoint;
    if (endpoint.disabledAt) {
      await this.failForDisabledEndpoint(delivery, endpoint);
      return this.count('endpoint_disabled');
    }

    if (!(await this.slots.acquire(endpoint.id, SLOT_WAIT_MS))) {
      return this.hold(job, token, THROTTLE_HOLD_MS * (0.5 + Math.random()), 'throttled');
    }
    let result: SendResult;
    try {
      // After the slot (which may take up to SLOT_WAIT_MS), so the send goes out in the
      // window that counted it.
      const rateWait = await this.rateLimitWait(endpoint);
      if (rateWait > 0) return this.hold(job, token, rateWait, 'rate_limited');
      result = await this.breakers.fire(endpoint.id, async () => {
        const sent = await this.send(delivery, endpoint);
        if (!isSuccess(sent.statusCode)) throw new FailedSend(sent);
        return sent;
      });
    } catch (error) {
      if (isBreakerRejection(error)) return this.hold(job, token, this.breakers.holdMs(endpoint.id), 'held');
      if (!(error instanceof FailedSend)) throw error;
      result = error.result;
    } finally {
      this.slots.release(endpoint.id);
    }
    this.metrics.attemptDuration(result.durationMs);
    return this.count(await this.record(delivery, endpoint, attempt, result));
  }

  private async send(delivery: DeliveryToSend, endpoint: EndpointToSend): Promise<SendResult> {
    const secrets = [this.box.open(endpoint.secretSealed, endpoint.id)];
    if (endpoint.previousSecretSealed && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt.getTime() > Date.now()) {
      secrets.push(this.box.open(endpoint.previousSecretSealed, endpoint.id));
    }
    const body = JSON.stringify(delivery.payload);
    const send = (agent?: Agent) =>
      postWebhook(endpoint.url, webhookHeaders(delivery.eventId, body, secrets), body, {
        timeoutMs: this.config.get('WEBHOOK_TIMEOUT_MS'),
        allowPrivateTargets: this.config.get('WEBHOOK_ALLOW_PRIVATE_TARGETS'),
        requireHttps: this.config.isProduction,
        agent,
      });
    const target = URL.canParse(endpoint.url) ? new URL(endpoint.url) : null;
    // A URL that does not parse gets no agent: postWebhook answers it with an error.
    return target ? this.agents.use(endpoint.id, target, send) : send();
  }

  /**
   * Writes the attempt and its consequences, then queues the next attempt if any. The
   * usual outcomes (success, a retry, the schedule exhausted) are one statement; a 410
   * or the end of the failure window disables the endpoint in a transaction with its
   * announcement (EndpointDisabling). The window is judged first on failing_since as
   * loaded with the delivery: at worst a few milliseconds old, so the endpoint is
   * disabled one failure later.
   */
  private async record(delivery: DeliveryToSend, endpoint: EndpointToSend, attempt: number, result: SendResult): Promise<DeliveryOutcome> {
    const now = new Date();
    const entry: AttemptEntry = {
      deliveryId: delivery.id,
      attemptedAt: now,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      responseBody: result.responseBody,
      error: result.error,
    };
    if (isSuccess(result.statusCode)) {
      await this.attemptLog.call({
        endpointId: endpoint.id,
        attempt: entry,
        change: { status: DeliveryStatus.Succeeded, nextAttemptAt: null, attemptCount: attempt },
        health: EndpointHealth.Succeeded,
      });
      return 'succeeded';
    }
    if (this.disabling.disables(endpoint, result.statusCode, now)) {
      const ended = await this.disabling.recordAndDisable(endpoint, entry, attempt, () => this.retryDelay(attempt, result));
      // Its connections are of no further use (closed once sends in flight settle).
      if (ended.disabled) this.agents.close(endpoint.id);
      if (ended.nextDelayMs !== null) await this.producer.enqueueAttempt(delivery.id, attempt + 1, ended.nextDelayMs);
      return ended.outcome;
    }
    const wait = this.retryDelay(attempt, result);
    const nextAttemptAt = wait === null ? null : new Date(now.getTime() + wait);
    const status = wait === null ? DeliveryStatus.Failed : DeliveryStatus.Pending;
    await this.attemptLog.call({
      endpointId: endpoint.id,
      attempt: entry,
      change: { status, nextAttemptAt, attemptCount: attempt },
      health: EndpointHealth.Failed,
    });
    if (wait === null) return 'failed';
    await this.producer.enqueueAttempt(delivery.id, attempt + 1, wait);
    return 'retry';
  }

  /** The wait before attempt `attempt + 1`, or null when the schedule is exhausted. */
  private retryDelay(attempt: number, result: SendResult): number | null {
    return retryDelayMs(this.schedule, attempt, result);
  }

  private async failForDisabledEndpoint(delivery: DeliveryToSend, endpoint: EndpointToSend): Promise<void> {
    // Disabled by an admin (or another process): this process's connections to it go too.
    this.agents.close(endpoint.id);
    const entry: AttemptEntry = {
      deliveryId: delivery.id,
      attemptedAt: new Date(),
      statusCode: null,
      durationMs: 0,
      responseBody: null,
      error: `not sent: the endpoint is disabled (${endpoint.disabledReason ?? 'manual'})`,
    };
    await this.attemptLog.call({
      endpointId: endpoint.id,
      attempt: entry,
      change: { status: DeliveryStatus.Failed, nextAttemptAt: null },
      health: EndpointHealth.Unchanged,
    });
  }

  /**
   * 0 when a send may go now; else how long until the endpoint has room again. A sliding
   * one-second window (the script auth-check's rate limits use, on Redis's clock; every
   * allowed rate_limit_per_second is within its exact log's range), so no
   * second anywhere sees more than the limit, not even across a window edge, and all
   * workers share it. (A send that the endpoint's open breaker then holds back has
   * still used its place in the window.)
   */
  private async rateLimitWait(endpoint: EndpointToSend): Promise<number> {
    const ONE_SECOND_US = 1_000_000;
    const limit = endpoint.rateLimitPerSecond;
    if (!limit || limit <= 0) return 0;
    const taken = await takeRateLimit(this.redis.client, this.redis.key('webhook-rate', endpoint.id), limit, ONE_SECOND_US, 1);
    if (taken.allowed) return 0;
    // Spread the held sends a little, so they do not all come back in the same instant.
    return Math.ceil(taken.retryAfterUs / 1000 + Math.random() * 50);
  }

  /** Puts the job back as delayed, unchanged: no attempt is counted. */
  private async hold(job: Job<WebhookDeliveryJobData>, token: string | undefined, ms: number, outcome: DeliveryOutcome): Promise<never> {
    this.count(outcome);
    await job.moveToDelayed(Date.now() + Math.round(ms), token);
    throw new DelayedError();
  }

  private count(outcome: DeliveryOutcome): DeliveryOutcome {
    this.metrics.outcome(outcome);
    return outcome;
  }
}

function isSuccess(statusCode: number | null): boolean {
  return statusCode !== null && statusCode >= 200 && statusCode < 300;
}
