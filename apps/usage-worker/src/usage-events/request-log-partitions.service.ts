import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { USAGE_BUCKET_MS } from '@latchkey/db';

export const REQUEST_LOG_ENVIRONMENTS = ['test', 'live'] as const;
export type RequestLogEnvironment = (typeof REQUEST_LOG_ENVIRONMENTS)[number];

const DAY_MS = USAGE_BUCKET_MS.day;
/** Days of partitions the maintenance job keeps ready ahead of today. */
export const PARTITION_DAYS_AHEAD = 3;
/** A check stamped further ahead than this (a broken clock) is counted but not logged. */
const FUTURE_LIMIT_DAYS = 7;
/** Serialises partition DDL between worker processes (`create … if not exists` alone races). */
const PARTITION_LOCK_KEY = 741_106;

/**
 * The daily partitions of request_logs: `request_logs_<env>_<yyyymmdd>` under
 * `request_logs_<env>`, each holding one UTC day of one environment. Partitioning by
 * environment first means each environment's retention (REQUEST_LOG_RETENTION_*_DAYS)
 * is enforced by dropping whole days, never by deleting rows. Retention is kept to
 * the day: a day leaves once all of it is past the cutoff.
 */
@Injectable()
export class RequestLogPartitionsService {
  private readonly logger = new Logger(RequestLogPartitionsService.name);
  /** Partitions this process has seen exist, so the hot path issues no DDL. */
  private readonly known = new Set<string>();

  constructor(
    private readonly orm: MikroORM,
    private readonly config: AppConfig,
  ) {}

  /** Checks before this time are past retention for the environment. */
  retentionCutoff(environment: RequestLogEnvironment, now = new Date()): Date {
    const days = this.config.get(environment === 'test' ? 'REQUEST_LOG_RETENTION_TEST_DAYS' : 'REQUEST_LOG_RETENTION_LIVE_DAYS');
    return new Date(now.getTime() - days * DAY_MS);
  }

  /** Whether a check at `at` gets a log row: its day is not (about to be) dropped, nor absurdly far ahead. */
  keepsLog(environment: RequestLogEnvironment, at: Date, now = new Date()): boolean {
    return (
      dayStart(at).getTime() + DAY_MS > this.retentionCutoff(environment, now).getTime() &&
      at.getTime() < now.getTime() + FUTURE_LIMIT_DAYS * DAY_MS
    );
  }

  /** Creates the partitions for these days (UTC) of these environments, unless they exist. */
  async ensure(days: { environment: RequestLogEnvironment; at: Date }[]): Promise<void> {
    const missing = new Map<string, { environment: RequestLogEnvironment; day: Date }>();
    for (const { environment, at } of days) {
      const day = dayStart(at);
      const name = partitionName(environment, day);
      if (!this.known.has(name)) missing.set(name, { environment, day });
    }
    if (missing.size === 0) return;
    const em = this.orm.em.fork() as EntityManager;
    await em.transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(?)', [PARTITION_LOCK_KEY]);
      for (const [name, { environment, day }] of missing) {
        const to = new Date(day.getTime() + DAY_MS);
        await tx.execute(
          `create table if not exists ${name} partition of request_logs_${environment} ` +
            `for values from ('${day.toISOString()}') to ('${to.toISOString()}')`,
          [],
          'run',
        );
      }
    });
    for (const name of missing.keys()) this.known.add(name);
  }

  /** Today's and the next days' partitions, for both environments. */
  async ensureAhead(now = new Date()): Promise<void> {
    const days: { environment: RequestLogEnvironment; at: Date }[] = [];
    for (const environment of REQUEST_LOG_ENVIRONMENTS) {
      for (let ahead = 0; ahead <= PARTITION_DAYS_AHEAD; ahead += 1) {
        days.push({ environment, at: new Date(now.getTime() + ahead * DAY_MS) });
      }
    }
    await this.ensure(days);
  }

  /** Drops every day partition wholly past its environment's retention; answers the names dropped. */
  async enforceRetention(now = new Date()): Promise<string[]> {
    const em = this.orm.em.fork() as EntityManager;
    const dropped: string[] = [];
    await em.transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(?)', [PARTITION_LOCK_KEY]);
      for (const environment of REQUEST_LOG_ENVIRONMENTS) {
        const cutoff = this.retentionCutoff(environment, now).getTime();
        const partitions = await tx.execute<{ name: string }[]>(
          `select c.relname as name from pg_inherits i
             join pg_class c on c.oid = i.inhrelid
             join pg_class p on p.oid = i.inhparent
            where p.relname = ?`,
          [`request_logs_${environment}`],
        );
        for (const { name } of partitions) {
          const day = dayOfPartition(name);
          if (day === null || day.getTime() + DAY_MS > cutoff) continue;
          await tx.execute(`drop table if exists ${name}`, [], 'run');
          dropped.push(name);
        }
      }
    });
    for (const name of dropped) this.known.delete(name);
    if (dropped.length > 0) this.logger.log(`request-log retention dropped ${dropped.join(', ')}`);
    return dropped;
  }

  /** After a failed write: the partition cache may be stale (another process dropped one). */
  forget(): void {
    this.known.clear();
  }
}

function dayStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

export function partitionName(environment: RequestLogEnvironment, day: Date): string {
  return `request_logs_${environment}_${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

function dayOfPartition(name: string): Date | null {
  const match = /_(\d{4})(\d{2})(\d{2})$/.exec(name);
  return match ? new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00.000Z`) : null;
}
