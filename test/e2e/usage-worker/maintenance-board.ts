import { TestApp } from '../../support/create-test-app';
import { waitUntil } from '../../support/wait-until';

/** The maintenance queue and its job as an operator sees them on Bull Board. */
export const MAINTENANCE_QUEUE = 'usage-maintenance';
export const MAINTENANCE_JOB = 'request-log-maintenance';

/** A job as Bull Board's API shows it. */
export interface BoardJob {
  id: string;
  name: string;
  data: Record<string, unknown>;
  processedOn?: number;
  finishedOn?: number;
  failedReason?: string;
  returnValue: Record<string, unknown> | null;
  opts: { repeat?: { every?: number } };
}

/** A job scheduler as Bull Board's API shows it. */
export interface BoardScheduler {
  id: string;
  name: string;
  every?: number;
  queueName: string;
}

/**
 * The usage worker's maintenance job through Bull Board (/admin/queues, the platform
 * operator token): the scheduler the worker registers at boot, the runs it finished,
 * and a run an operator adds. Nothing here reaches into the process.
 */
export class MaintenanceBoard {
  constructor(private readonly sut: TestApp) {}

  private get token(): string {
    return this.sut.config.PLATFORM_ADMIN_TOKEN;
  }

  async schedulers(): Promise<BoardScheduler[]> {
    const response = await this.sut.get('/admin/queues/api/job-schedulers', { token: this.token });
    if (response.status !== 200) throw new Error(`job-schedulers answered ${response.status}: ${response.text}`);
    return response.body.schedulers as BoardScheduler[];
  }

  /** The maintenance queue's jobs in `status`, newest first. */
  async jobs(status: 'completed' | 'failed' | 'delayed' | 'active' | 'waiting'): Promise<BoardJob[]> {
    const response = await this.sut.get('/admin/queues/api/queues', {
      token: this.token,
      query: { activeQueue: MAINTENANCE_QUEUE, status, page: '1', jobsPerPage: '50' },
    });
    if (response.status !== 200) throw new Error(`queues answered ${response.status}: ${response.text}`);
    const queue = (response.body.queues as { name: string; jobs: BoardJob[] }[]).find((entry) => entry.name === MAINTENANCE_QUEUE);
    if (!queue) throw new Error(`${MAINTENANCE_QUEUE} is not on the board`);
    return queue.jobs;
  }

  /** The scheduler's first run, which starts with the worker: waits for it to finish, and answers it. */
  async bootRun(): Promise<BoardJob> {
    let finished: BoardJob[] = [];
    await waitUntil(
      async () => {
        finished = [...(await this.jobs('completed')), ...(await this.jobs('failed'))];
        return finished.length > 0;
      },
      15_000,
      'the first maintenance run to finish',
    );
    return finished[finished.length - 1];
  }

  /**
   * Adds a maintenance run as an operator does on the board and answers what it did. `now`
   * is the job's "run as of" field: a run dated days ahead shows what the hourly job will
   * delete by then.
   */
  async run(now?: Date): Promise<Record<string, unknown>> {
    await this.bootRun();
    const added = await this.sut.post(`/admin/queues/api/queues/${MAINTENANCE_QUEUE}/add`, {
      token: this.token,
      body: { name: MAINTENANCE_JOB, data: now ? { now: now.toISOString() } : {}, options: {} },
    });
    if (added.status !== 200) throw new Error(`adding a run answered ${added.status}: ${added.text}`);
    const id = (added.body.job as BoardJob).id;
    let job: BoardJob | undefined;
    await waitUntil(
      async () => {
        const response = await this.sut.get(`/admin/queues/api/queues/${MAINTENANCE_QUEUE}/${id}`, { token: this.token });
        job = response.body?.job as BoardJob | undefined;
        return job?.finishedOn !== undefined && job.finishedOn !== null;
      },
      30_000,
      () => `the maintenance run ${id} to finish: ${JSON.stringify(job)}`,
    );
    if (job!.failedReason) throw new Error(`the maintenance run failed: ${job!.failedReason}`);
    return job!.returnValue!;
  }
}
