import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Gauge } from 'prom-client';

import { AppConfig } from '@latchkey/config';
import { constantTimeEquals } from '@latchkey/crypto';
import { AppError, closeBullmq, createProducerQueue, errorEnvelope, MetricsService, RedisService, withDeadline } from '@latchkey/platform';

import { ADMIN_QUEUES, DEPTH_STATES } from './queue-names';
import { durabilityWarnings, parseInfo, RedisDurability } from './redis-durability';

export const QUEUE_ADMIN_PATH = '/admin/queues';
/** A scrape never waits longer than this on Redis (a stale gauge beats a hung /metrics). */
const SCRAPE_DEADLINE_MS = 1_000;
const CHECK_DEADLINE_MS = 2_000;

/**
 * Operations for the queues (issue 6): Bull Board at /admin/queues behind the
 * platform operator token, queue depth gauges read at scrape time, and a warning
 * at start when Redis is not configured as BullMQ needs it.
 */
@Injectable()
export class QueueAdminService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(QueueAdminService.name);
  readonly queues: Queue[];

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisService,
    private readonly adapterHost: HttpAdapterHost,
    metrics: MetricsService,
  ) {
    // Read only (counts, Bull Board), and failing fast while Redis is away, like a producer's.
    this.queues = ADMIN_QUEUES.map((name) => createProducerQueue(name, config, this.logger));
    const queues = this.queues;
    const logger = this.logger;
    new Gauge({
      name: 'bullmq_queue_jobs',
      help: 'Jobs per BullMQ queue and state (waiting, active, delayed, failed, …), read from Redis at scrape time.',
      labelNames: ['queue', 'state'] as const,
      registers: [metrics.registry],
      async collect() {
        this.reset();
        await Promise.all(
          queues.map(async (queue) => {
            try {
              const counts = await withDeadline(queue.getJobCounts(...DEPTH_STATES), SCRAPE_DEADLINE_MS, 'timed out');
              for (const state of DEPTH_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
            } catch (error) {
              logger.debug(`queue depth of ${queue.name} unavailable: ${(error as Error).message}`);
            }
          }),
        );
      },
    });
  }

  async onModuleInit(): Promise<void> {
    this.mountBullBoard();
    await this.warnAboutRedisDurability();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.queues.map((queue) => closeBullmq(queue)));
  }

  /** Counts per queue and state (also what the depth gauges export). */
  async counts(): Promise<Record<string, Record<string, number>>> {
    const entries = await Promise.all(this.queues.map(async (queue) => [queue.name, await queue.getJobCounts(...DEPTH_STATES)] as const));
    return Object.fromEntries(entries);
  }

  /** Reads the settings BullMQ cares about and logs a warning for each that is off. */
  async readRedisDurability(): Promise<RedisDurability> {
    const client = this.redis.client;
    const settings: RedisDurability = { maxmemoryPolicy: null, aofEnabled: null, rdbSave: null };
    const memory = parseInfo(await client.info('memory'));
    settings.maxmemoryPolicy = memory.maxmemory_policy ?? null;
    const persistence = parseInfo(await client.info('persistence'));
    if (persistence.aof_enabled !== undefined) settings.aofEnabled = persistence.aof_enabled === '1';
    try {
      // CONFIG may be disabled or renamed (managed Redis): then the schedule stays unknown.
      const save = (await client.call('CONFIG', 'GET', 'save')) as string[];
      settings.rdbSave = save.length >= 2 ? save[1] : null;
      if (settings.maxmemoryPolicy === null) {
        const policy = (await client.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
        settings.maxmemoryPolicy = policy.length >= 2 ? policy[1] : null;
      }
    } catch {
      // tolerated: INFO alone decides
    }
    return settings;
  }

  private async warnAboutRedisDurability(): Promise<void> {
    try {
      const settings = await withDeadline(this.readRedisDurability(), CHECK_DEADLINE_MS, 'Redis did not answer');
      for (const warning of durabilityWarnings(settings)) {
        this.logger.warn(`Redis is not set up for durable queues: ${warning}. See docs/operations.md#redis-for-the-queues.`);
      }
    } catch (error) {
      this.logger.warn(`could not check Redis persistence and maxmemory-policy at start: ${(error as Error).message}`);
    }
  }

  /**
   * Bull Board as an encapsulated Fastify plugin: its routes see only its own hook,
   * which wants the operator token as `Authorization: Bearer <token>` or, for a
   * browser, HTTP Basic with the token as password.
   */
  private mountBullBoard(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    const serverAdapter = new BullBoardFastifyAdapter();
    serverAdapter.setBasePath(QUEUE_ADMIN_PATH);
    createBullBoard({
      queues: this.queues.map((queue) => new BullMQAdapter(queue)),
      serverAdapter,
      options: { uiConfig: { boardTitle: 'Latchkey queues' } },
    });
    const adminToken = this.config.get('PLATFORM_ADMIN_TOKEN');
    void fastify.register(async (scope) => {
      scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        if (operatorToken(request.headers.authorization, adminToken)) return;
        await reply
          .code(401)
          .header('www-authenticate', 'Basic realm="Latchkey queues", charset="UTF-8"')
          .header('content-type', 'application/json; charset=utf-8')
          .send(errorEnvelope(AppError.unauthenticated('Send the platform operator token.'), String(request.id)));
      });
      await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_ADMIN_PATH });
    });
  }
}

/** True when the header carries the operator token, as a Bearer token or as a Basic password. */
export function operatorToken(header: string | undefined, adminToken: string): boolean {
  if (!header) return false;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!value) return false;
  if (scheme.toLowerCase() === 'bearer') return constantTimeEquals(value, adminToken);
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && constantTimeEquals(decoded.slice(colon + 1), adminToken);
  }
  return false;
}
