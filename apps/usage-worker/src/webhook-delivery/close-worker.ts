import { Worker } from 'bullmq';

/** How long a closing worker may wait for its jobs in flight (an attempt's deadline can be 10 s) before it lets go. */
const CLOSE_DEADLINE_MS = 3_000;

/**
 * Closes a worker before the database and Redis connections go (beforeApplicationShutdown).
 * Jobs still running after the deadline are abandoned; BullMQ's stalled-job check gives them
 * to another worker, and the delivery is sent again (at-least-once).
 */
export async function closeWorker(worker: Worker | undefined): Promise<void> {
  if (!worker) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), CLOSE_DEADLINE_MS);
  });
  try {
    const result = await Promise.race([worker.close().then(() => 'closed' as const), deadline]);
    if (result === 'late') await worker.close(true).catch(() => undefined);
  } catch {
    await worker.disconnect().catch(() => undefined);
  } finally {
    clearTimeout(timer);
  }
}
