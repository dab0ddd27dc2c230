import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';
import { issueKey } from '../auth-check/auth-check-helpers';
import { MaintenanceBoard } from './maintenance-board';

const DAY_MS = 86_400_000;

/**
 * Request-log partitions as a deployment sees them: the maintenance job's first run at
 * boot creates today's and the next days' (Bull Board shows its report), and checks are
 * logged and listed through GET /v1/logs while readers are at it. Partitions creating
 * on demand once deadlocked the batch's path against `GET /v1/logs` (40P01); the lock
 * cases (the DEFAULT partition, DDL giving way to readers) are
 * apps/usage-worker/src/usage-events/request-log-partitions.service.int-spec.ts.
 */
describe('usage-worker: request-log partitions and readers', () => {
  let sut: TestApp;
  let board: MaintenanceBoard;
  let owner: UserSession;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { USAGE_FLUSH_MS: '50' } });
    board = new MaintenanceBoard(sut);
    owner = await signUp(sut);
  });

  afterAll(async () => {
    await sut.close();
  });

  const day = (from: number, offset: number) => new Date(from + offset * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');

  it("creates today's and the next days' partitions in its first run, as the worker starts", async () => {
    const first = await board.bootRun();
    const ranAt = first.processedOn!;
    expect(first.returnValue?.created).toEqual(
      expect.arrayContaining(
        [0, 1].flatMap((offset) => [`request_logs_test_${day(ranAt, offset)}`, `request_logs_live_${day(ranAt, offset)}`]),
      ),
    );
    // A run an operator adds (as of the same time) finds the days in place: nothing more to create.
    expect((await board.run(new Date(ranAt))).created).toEqual([]);
  });

  it('logs checks while GET /v1/logs reads, and lists every one of them', async () => {
    const key = await issueKey(sut, owner, { name: 'read while logged' });
    const list = () => sut.get('/v1/logs', { token: owner.token, query: { limit: '100' } });
    const readers: number[] = [];
    let checking = true;
    const reading = (async () => {
      while (checking) readers.push((await list()).status);
    })();
    try {
      for (let index = 0; index < 20; index += 1) {
        const response = await sut.post('/v1/verify', { body: { key: key.secret, method: 'GET', path: `/v1/x/${index}` } });
        expect(response.status).toBe(200);
      }
      await waitUntil(async () => ((await list()).body.data as unknown[]).length === 20, 10_000, 'the 20 checks in the logs');
    } finally {
      checking = false;
      await reading;
    }
    expect(readers.length).toBeGreaterThan(0);
    expect(readers.filter((status) => status !== 200)).toEqual([]);
    const paths = ((await list()).body.data as { path: string }[]).map((row) => row.path).sort();
    expect(paths).toEqual(Array.from({ length: 20 }, (_, index) => `/v1/x/${index}`).sort());
  });
});
