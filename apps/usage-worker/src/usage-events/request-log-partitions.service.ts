import { setTimeout as sleep } from 'node:timers/promises';

import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';

import { DAY_MS } from '@latchkey/db';

import { REQUEST_LOG_ENVIRONMENTS, RequestLogEnvironment, retentionCutoff, RetentionWindows } from './request-log-retention';

/** Days of partitions kept ready ahead of today (by the maintenance job and at worker start). */
export const PARTITION_DAYS_AHEAD = 3;
/** A check stamped further ahead than this (a broken clock) is counted but not logged. */
export const FUTURE_LIMIT_DAYS = 7;
/** Serialises partition DDL between worker processes (`create … if not exists` alone races). */
const PARTITION_LOCK_KEY = 741_106;
/**
 * DDL waits at most this long for a lock, then gives up and tries again later. A DDL
 * statement waiting in the lock queue would make every read and insert behind it wait
 * too; this bounds that stall.
 */
const DDL_LOCK_TIMEOUT = '1s';
const DDL_ATTEMPTS = 3;
const DDL_RETRY_MS = 500;

/**
 * The daily partitions of request_logs: `request_logs_<env>_<yyyymmdd>` under
 * `request_logs_<env>`, each holding one UTC day of one environment, plus a DEFAULT
 * partition per environment (`request_logs_<env>_default`) for any row whose day has
 * no partition.
 *
 * Only the maintenance job (and the worker's start) runs DDL here; the insert path
 * never does. Each partition is created or dropped in its own short transaction with
 * a lock timeout, so this never holds one parent while waiting for another: the lock
 * cycle with `GET /v1/logs` (reads lock both environments' partitions) that creating
 * partitions on demand, several per transaction, ran into (Postgres 40P01) cannot form.
 *
 * A day is created by ATTACH rather than `create table … partition of`: ATTACH takes
 * only SHARE UPDATE EXCLUSIVE on the parent, which reads and inserts do not wait for.
 * It needs the DEFAULT partition exclusively for a moment (to move that day's stray
 * rows out of it, and for Postgres to check it holds none left), and that partition
 * is normally empty.
 */
@Injectable()
export class RequestLogPartitionsService {
  private readonly logger = new Logger(RequestLogPartitionsService.name);

  constructor(private readonly orm: MikroORM) {}

  /** Today's and the next days' partitions, for both environments. */
  async ensureAhead(now = new Date()): Promise<string[]> {
    const days: { environment: RequestLogEnvironment; at: Date }[] = [];
    for (const environment of REQUEST_LOG_ENVIRONMENTS) {
      for (let ahead = 0; ahead <= PARTITION_DAYS_AHEAD; ahead += 1) {
        days.push({ environment, at: new Date(now.getTime() + ahead * DAY_MS) });
      }
    }
    return this.ensure(days);
  }

  /**
   * Creates the partitions of these days (UTC) of these environments, unless they
   * exist, each moving in the rows of its day that waited in the DEFAULT partition.
   * Answers the names created.
   */
  async ensure(days: { environment: RequestLogEnvironment; at: Date }[]): Promise<string[]> {
    const wanted = new Map<string, { environment: RequestLogEnvironment; day: Date }>();
    for (const { environment, at } of days) {
      const day = dayStart(at);
      wanted.set(partitionName(environment, day), { environment, day });
    }
    const existing = new Set(await this.partitionsOf([...new Set([...wanted.values()].map((entry) => entry.environment))]));
    const created: string[] = [];
    for (const [name, { environment, day }] of wanted) {
      if (existing.has(name)) continue;
      if (await this.withDdlRetries(`creating ${name}`, (tx) => this.attachDay(tx, environment, day, name))) created.push(name);
    }
    return created;
  }

  /**
   * Rows that landed in a DEFAULT partition (their day had no partition yet, say the
   * worker started late) move into day partitions of their own, for days still inside
   * the longest retention window; older ones are left to retention.
   */
  async adoptStrayRows(windows: RetentionWindows, now = new Date()): Promise<string[]> {
    const em = this.orm.em.fork() as EntityManager;
    const days: { environment: RequestLogEnvironment; at: Date }[] = [];
    for (const environment of REQUEST_LOG_ENVIRONMENTS) {
      const rows = await em.execute<{ day: Date | string }[]>(
        `select distinct date_trunc('day', at at time zone 'UTC') at time zone 'UTC' as day
           from ${defaultPartitionName(environment)} where at >= ?`,
        [retentionCutoff(windows[environment].longestDays, now)],
      );
      for (const row of rows) days.push({ environment, at: new Date(row.day) });
    }
    return days.length > 0 ? this.ensure(days) : [];
  }

  /**
   * Drops every day partition wholly past its environment's longest retention window
   * (an organisation keeping logs longer keeps the day for everyone; shorter windows
   * are enforced row by row, see RequestLogRetentionService). Answers the names dropped.
   */
  async dropPast(windows: RetentionWindows, now = new Date()): Promise<string[]> {
    const dropped: string[] = [];
    for (const environment of REQUEST_LOG_ENVIRONMENTS) {
      const cutoff = retentionCutoff(windows[environment].longestDays, now).getTime();
      for (const name of await this.partitionsOf([environment])) {
        const day = dayOfPartition(name);
        if (day === null || day.getTime() + DAY_MS > cutoff) continue;
        // `drop` locks the parent first (ACCESS EXCLUSIVE, once a day per environment), then the day: one lock order, bounded wait.
        if (await this.withDdlRetries(`dropping ${name}`, (tx) => tx.execute(`drop table if exists ${name}`, [], 'run'))) {
          dropped.push(name);
        }
      }
    }
    if (dropped.length > 0) this.logger.log(`request-log retention dropped ${dropped.join(', ')}`);
    return dropped;
  }

  /** The day partitions of these environments (not the DEFAULT ones). */
  async partitionsOf(environments: RequestLogEnvironment[]): Promise<string[]> {
    if (environments.length === 0) return [];
    const em = this.orm.em.fork() as EntityManager;
    const rows = await em.execute<{ name: string }[]>(
      `select c.relname as name from pg_inherits i
         join pg_class c on c.oid = i.inhrelid
         join pg_class p on p.oid = i.inhparent
        where p.relname in (select 'request_logs_' || e from jsonb_array_elements_text(?::jsonb) as e)`,
      [JSON.stringify(environments)],
    );
    return rows.map((row) => row.name).filter((name) => dayOfPartition(name) !== null);
  }

  /**
   * One day, attached: a standalone table takes the day's rows out of the DEFAULT
   * partition (locked first, so no new stray row of that day slips in meanwhile),
   * then is attached. Postgres adds the parent's indexes to it on attach.
   */
  private async attachDay(tx: EntityManager, environment: RequestLogEnvironment, day: Date, name: string): Promise<void> {
    const parent = `request_logs_${environment}`;
    const fallback = defaultPartitionName(environment);
    const from = day.toISOString();
    const to = new Date(day.getTime() + DAY_MS).toISOString();
    await tx.execute(`lock table ${fallback} in access exclusive mode`, [], 'run');
    await tx.execute(`create table ${name} (like ${parent} including defaults including constraints)`, [], 'run');
    await tx.execute(
      `with moved as (delete from ${fallback} where at >= '${from}' and at < '${to}' returning *) insert into ${name} select * from moved`,
      [],
      'run',
    );
    await tx.execute(`alter table ${parent} attach partition ${name} for values from ('${from}') to ('${to}')`, [], 'run');
  }

  /**
   * Runs one piece of DDL in its own transaction, under the partition lock, with a
   * lock timeout; retried a few times when a lock was not had in time, then left to the
   * next run (logged) so the rest of the maintenance still happens. Answers whether it
   * ran. Another process having made the same change first counts as not run.
   */
  private async withDdlRetries(what: string, ddl: (tx: EntityManager) => Promise<unknown>): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const em = this.orm.em.fork() as EntityManager;
        await em.transactional(async (tx) => {
          await tx.execute(`set local lock_timeout = '${DDL_LOCK_TIMEOUT}'`, [], 'run');
          await tx.execute('select pg_advisory_xact_lock(?)', [PARTITION_LOCK_KEY]);
          await ddl(tx);
        });
        return true;
      } catch (error) {
        const code = (error as { code?: string }).code;
        // 42P07: the day exists already (another process made it between our look and our lock).
        if (code === '42P07') return false;
        if (code !== '55P03') throw error;
        if (attempt >= DDL_ATTEMPTS) {
          // Until the day exists its checks wait in the DEFAULT partition; a dropped day is only late.
          this.logger.warn(`${what}: lock not had within ${DDL_LOCK_TIMEOUT} in ${DDL_ATTEMPTS} attempts; left to the next run`);
          return false;
        }
        await sleep(DDL_RETRY_MS * attempt);
      }
    }
  }
}

function dayStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

export function partitionName(environment: RequestLogEnvironment, day: Date): string {
  return `request_logs_${environment}_${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export function defaultPartitionName(environment: RequestLogEnvironment): string {
  return `request_logs_${environment}_default`;
}

function dayOfPartition(name: string): Date | null {
  const match = /_(\d{4})(\d{2})(\d{2})$/.exec(name);
  return match ? new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00.000Z`) : null;
}
