import { Queue, QueueEvents } from 'bullmq';

import { bullPrefix } from '@latchkey/contracts';

import {
  MaintenanceRun,
  USAGE_MAINTENANCE_QUEUE,
  UsageMaintenanceProcessor,
} from '../../../apps/usage-worker/src/usage-events/usage-maintenance.processor';
import { TestApp } from '../../support/create-test-app';
import { waitUntil } from '../../support/wait-until';

/**
 * Runs the usage maintenance job on demand, through its queue, and answers what the
 * run did. The job scheduler's own first run starts with the app; `start` waits for it
 * to finish, so a test's counts are its own run's.
 */
export class UsageMaintenanceRunner {
  private constructor(
    private readonly sut: TestApp,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {}

  static async start(sut: TestApp): Promise<UsageMaintenanceRunner> {
    const options = { prefix: bullPrefix(sut.config.REDIS_PREFIX), connection: { url: sut.config.REDIS_URL } };
    const runner = new UsageMaintenanceRunner(
      sut,
      new Queue(USAGE_MAINTENANCE_QUEUE, options),
      new QueueEvents(USAGE_MAINTENANCE_QUEUE, options),
    );
    await runner.events.waitUntilReady();
    let counts: Record<string, number> = {};
    await waitUntil(
      async () => {
        counts = await runner.queue.getJobCounts('completed', 'failed', 'active', 'waiting', 'prioritized');
        return counts.completed + counts.failed > 0 && counts.active + counts.waiting + counts.prioritized === 0;
      },
      15_000,
      () => `the scheduled maintenance run to finish: ${JSON.stringify(counts)}`,
    );
    return runner;
  }

  async run(now: Date): Promise<MaintenanceRun> {
    const job = await this.sut.app.get(UsageMaintenanceProcessor).runNow(now);
    return (await job.waitUntilFinished(this.events, 30_000)) as MaintenanceRun;
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
  }
}
