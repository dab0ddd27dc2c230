import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { MAINTENANCE_JOB, MAINTENANCE_QUEUE, MaintenanceBoard } from './maintenance-board';

/**
 * The usage worker's maintenance job as a deployment runs it and an operator sees it on
 * Bull Board: scheduled hourly at boot, its first run reporting the tables it prunes
 * outside metering (the outbox, webhook deliveries, sessions and mailed tokens). What
 * each pruner deletes and keeps, on rows dated in the past, is
 * apps/usage-worker/src/retention/table-retention.int-spec.ts.
 */
describe('usage-worker: retention of the outbox, webhook deliveries, sessions and tokens', () => {
  let sut: TestApp;
  let board: MaintenanceBoard;

  beforeAll(async () => {
    sut = await TestApp.start();
    board = new MaintenanceBoard(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  it('schedules its maintenance hourly at boot, and the first run reports each table it prunes', async () => {
    const first = await board.bootRun();
    expect(first.name).toBe(MAINTENANCE_JOB);
    expect(first.returnValue).toMatchObject({
      outboxEvents: 0,
      webhookDeliveries: 0,
      credentials: { sessions: 0, userTokens: 0 },
    });
    expect((await board.schedulers()).filter((scheduler) => scheduler.queueName === MAINTENANCE_QUEUE)).toEqual([
      expect.objectContaining({ id: MAINTENANCE_JOB, name: MAINTENANCE_JOB, every: 3_600_000 }),
    ]);
    // The next run waits its hour.
    expect(await board.jobs('delayed')).toEqual([
      expect.objectContaining({
        name: MAINTENANCE_JOB,
        opts: expect.objectContaining({ repeat: expect.objectContaining({ every: 3_600_000 }) }),
      }),
    ]);
  });

  it('keeps a signed-in session working through a run an operator starts', async () => {
    const { token } = await signUp(sut);
    const run = await board.run();
    expect(run.credentials).toEqual({ sessions: 0, userTokens: 0 });
    expect((await sut.get('/v1/auth/session', { token })).status).toBe(200);
  });
});
