import { Logger } from '@nestjs/common';
import { JobSchedulerTemplateOptions, Queue } from 'bullmq';

import { errorMessageForLog } from '../logging/log-redaction';
import { withDeadline } from './with-deadline';

export interface JobSchedulerOptions<DataType> {
  /** The scheduler's id. Stored in Redis: DO NOT CHANGE it once deployed, or the old one keeps running beside the new. */
  id: string;
  everyMs: number;
  /** The job each run adds. */
  job: { name: string; data: DataType; opts?: JobSchedulerTemplateOptions };
  /** What the log calls it: `scheduling <label> failed (…); retrying in 30 s`. */
  label: string;
  /** After a failed upsert, how long until the next try. */
  retryMs?: number;
  /** How long one upsert may take before it counts as failed (Redis away: commands wait for it). */
  deadlineMs?: number;
}

/** A scheduler kept in place; `stop()` before the queue closes. */
export interface KeptJobScheduler {
  /** Upserts the scheduler now; on failure logs it and tries again later. True when it is in place. */
  ensure(): Promise<boolean>;
  stop(): void;
}

const DEFAULT_RETRY_MS = 30_000;
const DEFAULT_DEADLINE_MS = 5_000;

/**
 * Keeps a BullMQ job scheduler in Redis, the one way every periodic job of the worker
 * is scheduled (no cron outside the queue). Every process upserts it, which is
 * idempotent, so one run per interval happens across all of them. It is upserted at
 * once, again after `retryMs` while upserts fail (Redis not there yet at boot), and
 * again each time the queue's connection comes back, since a Redis that came back
 * empty has lost the scheduler too. Never throws: a scheduler that cannot be placed
 * now is placed by a later try, and the boot does not wait for it.
 */
export function keepJobScheduler<DataType>(
  // Any queue: the type of the job it adds comes from the options.
  queue: Queue,
  options: JobSchedulerOptions<DataType>,
  logger: Logger,
): KeptJobScheduler {
  const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const ensure = async (): Promise<boolean> => {
    // One retry pending at most, however the tries were set off (a failure, a reconnect, a caller).
    clearTimeout(retry);
    if (stopped) return false;
    try {
      await withDeadline(
        queue.upsertJobScheduler(options.id, { every: options.everyMs }, options.job),
        deadlineMs,
        `timed out after ${deadlineMs} ms`,
      );
      return true;
    } catch (error) {
      if (stopped) return false;
      logger.warn(`scheduling ${options.label} failed (${errorMessageForLog(error)}); retrying in ${retryMs / 1000} s`);
      retry = setTimeout(() => void ensure(), retryMs);
      retry.unref();
      return false;
    }
  };

  void ensure();
  // The client resolves once first connected; its later 'ready' events are reconnections.
  void queue.client.then(
    (client) => client.on('ready', () => void ensure()),
    () => undefined,
  );
  return {
    ensure,
    stop: () => {
      stopped = true;
      clearTimeout(retry);
    },
  };
}
