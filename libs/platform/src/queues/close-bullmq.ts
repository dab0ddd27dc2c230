import { Queue, Worker } from 'bullmq';

import { releaseConnection } from './bull-connection';
import { withDeadline } from './with-deadline';

/** How long a closing queue may wait for its first connect (a process stopped right after starting), or for a forced disconnect. */
const READY_WAIT_MS = 1_000;

/**
 * Closes a BullMQ queue or worker without hanging and without crashing the process.
 *
 * - A worker gets `deadlineMs` to finish the jobs in hand; after that they are
 *   abandoned, and BullMQ's stalled-job check hands them to another worker (every
 *   job here is idempotent, so that is safe). Its connections close when they settle.
 * - bullmq 5.81 removes a connection's listeners on close, but a connect still in
 *   flight then fails and emits 'error' on it: with no listener that is an
 *   unhandled error that kills the process. So we wait briefly for the connect,
 *   and leave a listener behind.
 */
export async function closeBullmq(target: Queue | Worker | undefined, deadlineMs = 3_000): Promise<'closed' | 'forced'> {
  if (!target) return 'closed';
  await withDeadline(target.waitUntilReady(), READY_WAIT_MS).catch(() => undefined);
  try {
    await withDeadline(target.close(), deadlineMs);
    releaseConnection(target);
    return 'closed';
  } catch {
    if (target instanceof Worker) {
      // The jobs in hand are abandoned (the stalled-job check redelivers them). close(true)
      // goes on in the background and closes the connections once they settle. Disconnecting
      // under a job still in hand instead makes bullmq 5.81's main loop spin on the CPU when
      // the job ends, which starves the rest of the shutdown for ever.
      void target
        .close(true)
        .catch(() => undefined)
        .finally(() => releaseConnection(target));
      stopLockRenewal(target);
      return 'forced';
    }
    // Not awaited without a deadline: ioredis never reports the end of a connection that
    // was already between reconnect attempts (Redis gone), so bullmq's disconnect would wait for ever.
    await withDeadline(target.disconnect(), READY_WAIT_MS).catch(() => undefined);
    releaseConnection(target);
    return 'forced';
  } finally {
    keepErrorListener(target);
  }
}

/**
 * bullmq keeps a worker's first close() call: the close(true) above returns the same close,
 * still waiting for the jobs in hand, and until they end it renews their locks every half
 * lock duration, a timer that keeps the process from exiting (for ever when Redis is gone
 * and a job can never end). An abandoned job must not keep its lock anyway, or the
 * stalled-job check could not redeliver it, so its renewal stops here.
 */
function stopLockRenewal(worker: Worker): void {
  const internals = worker as unknown as { lockManager?: { close?(): Promise<void> } };
  void internals.lockManager?.close?.().catch(() => undefined);
}

type Emitter = { on?(event: 'error', listener: () => void): void };

function keepErrorListener(target: Queue | Worker): void {
  const internals = target as unknown as { connection?: Emitter; blockingConnection?: Emitter };
  internals.connection?.on?.('error', () => undefined);
  internals.blockingConnection?.on?.('error', () => undefined);
}
