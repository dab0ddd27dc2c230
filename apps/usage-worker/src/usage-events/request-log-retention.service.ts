import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';

import { deleteInBatches } from '../database/delete-in-batches';
import { defaultPartitionName } from './request-log-partitions.service';
import {
  ownRetentionDaysSql,
  REQUEST_LOG_ENVIRONMENTS,
  RequestLogEnvironment,
  retentionCutoff,
  retentionDaysSql,
  RetentionWindows,
} from './request-log-retention';

/** Organisations read per statement while looking for those with a shorter window. */
const ORG_PAGE = 500;
/** Rows a run deletes at most, over all organisations; the rest waits an hour (reads hide them meanwhile). */
const MAX_ROWS_PER_RUN = 500_000;
const BATCH_SIZE = 5_000;

export interface OrgRetentionRun {
  /** Rows deleted because they were past their organisation's own window. */
  deleted: number;
  /** false: the run stopped at its bound; the next one goes on. */
  complete: boolean;
}

/**
 * Per-organisation request-log retention (`request_log_retention_{test,live}_days`
 * in the organisation's settings; null = REQUEST_LOG_RETENTION_<ENV>_DAYS).
 *
 * Day partitions can only be dropped whole, for everyone: they are kept until the
 * LONGEST window of the environment has passed them (RequestLogPartitionsService).
 * Every organisation whose own window is shorter than that — one that chose fewer
 * days, or, while someone keeps logs longer, every organisation on the default —
 * has its older rows deleted here, one organisation at a time and in batches of
 * BATCH_SIZE rows, through the (org_id, id) index of the partitions older than its
 * window; partition pruning keeps newer days out of it. It costs nothing while
 * nobody has a setting, and a few index probes per organisation and old day
 * otherwise. Rows waiting for deletion are never shown: GET /v1/logs filters by the
 * organisation's window, and the usage worker does not write rows already past it.
 */
@Injectable()
export class RequestLogRetentionService {
  private readonly logger = new Logger(RequestLogRetentionService.name);

  constructor(
    private readonly orm: MikroORM,
    private readonly config: AppConfig,
  ) {}

  defaultDays(environment: RequestLogEnvironment): number {
    return this.config.get(environment === 'test' ? 'REQUEST_LOG_RETENTION_TEST_DAYS' : 'REQUEST_LOG_RETENTION_LIVE_DAYS');
  }

  /** Each environment's default window and the longest window any organisation has. */
  async windows(): Promise<RetentionWindows> {
    const em = this.orm.em.fork() as EntityManager;
    const [row] = await em.execute<{ test: number | null; live: number | null }[]>(
      `select max(${ownRetentionDaysSql('settings', 'test')}) as test, max(${ownRetentionDaysSql('settings', 'live')}) as live
         from organizations`,
    );
    const window = (environment: RequestLogEnvironment) => {
      const defaultDays = this.defaultDays(environment);
      const longest = row?.[environment];
      return { defaultDays, longestDays: Math.max(defaultDays, longest === null || longest === undefined ? 0 : Number(longest)) };
    };
    return { test: window('test'), live: window('live') };
  }

  /** Deletes, organisation by organisation, the rows past each one's own window (where partitions outlive it). */
  async deleteRowsPastOrgWindows(windows: RetentionWindows, now = new Date()): Promise<OrgRetentionRun> {
    const run: OrgRetentionRun = { deleted: 0, complete: true };
    for (const environment of REQUEST_LOG_ENVIRONMENTS) {
      const { defaultDays, longestDays } = windows[environment];
      const days = retentionDaysSql('o.settings', environment, defaultDays);
      const em = this.orm.em.fork() as EntityManager;
      let after = '';
      for (;;) {
        // Only organisations whose window ends before the partitions do have rows to lose.
        const orgs = await em.execute<{ id: string; days: number }[]>(
          `select o.id, ${days} as days from organizations o
            where o.id > ? and ${days} < ?
            order by o.id limit ${ORG_PAGE}`,
          [after, longestDays],
        );
        for (const org of orgs) {
          const left = MAX_ROWS_PER_RUN - run.deleted;
          if (left <= 0) {
            run.complete = false;
            break;
          }
          const cutoff = retentionCutoff(Number(org.days), now);
          // The `at` bound, repeated outside by deleteInBatches, prunes the partitions the DELETE visits.
          const result = await deleteInBatches(
            this.orm,
            { table: `request_logs_${environment}`, key: 'id', where: 'org_id = ? and at < ?', params: [org.id, cutoff] },
            { batchSize: BATCH_SIZE, maxBatches: Math.ceil(left / BATCH_SIZE) },
          );
          run.deleted += result.deleted;
          if (!result.complete) run.complete = false;
        }
        if (!run.complete || orgs.length < ORG_PAGE) break;
        after = orgs[orgs.length - 1].id;
      }
      if (!run.complete) break;
    }
    if (!run.complete) this.logger.warn(`request-log retention stopped at ${run.deleted} rows this run; the next run goes on`);
    return run;
  }

  /** Rows left in a DEFAULT partition past the longest window (the day partitions' own go with their day). */
  async deleteStrayRowsPastWindows(windows: RetentionWindows, now = new Date()): Promise<number> {
    let deleted = 0;
    for (const environment of REQUEST_LOG_ENVIRONMENTS) {
      const table = defaultPartitionName(environment);
      const cutoff = retentionCutoff(windows[environment].longestDays, now);
      // A DEFAULT partition is a leaf, so its ctid tells its rows apart.
      const result = await deleteInBatches(this.orm, { table, key: 'ctid', where: 'at < ?', params: [cutoff] });
      deleted += result.deleted;
    }
    return deleted;
  }
}
