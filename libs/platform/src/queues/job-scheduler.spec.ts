import { EventEmitter } from 'node:events';

import { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';

import { keepJobScheduler } from './job-scheduler';

/** A queue whose upserts answer as told, and whose connection can "come back". */
function fakeQueue(answers: ('ok' | 'fail' | 'hang')[]) {
  const connection = new EventEmitter();
  const upsertJobScheduler = jest.fn(() => {
    const answer = answers.shift() ?? 'ok';
    if (answer === 'fail') return Promise.reject(new Error('Connection is closed.'));
    if (answer === 'hang') return new Promise(() => undefined);
    return Promise.resolve({});
  });
  const queue = { upsertJobScheduler, client: Promise.resolve(connection) } as unknown as Queue;
  return { queue, upsertJobScheduler, connection };
}

const options = { id: 'nightly', everyMs: 60_000, job: { name: 'run', data: { n: 1 } }, label: 'the nightly run', retryMs: 1_000 };

describe(keepJobScheduler.name, () => {
  const logger = new Logger('test');
  let warn: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.useRealTimers());

  const settle = () => jest.advanceTimersByTimeAsync(0);

  it('upserts the scheduler at once with its interval and job', async () => {
    const { queue, upsertJobScheduler } = fakeQueue(['ok']);
    const kept = keepJobScheduler(queue, options, logger);
    await settle();

    expect(upsertJobScheduler).toHaveBeenCalledTimes(1);
    expect(upsertJobScheduler).toHaveBeenCalledWith('nightly', { every: 60_000 }, { name: 'run', data: { n: 1 } });
    expect(warn).not.toHaveBeenCalled();
    kept.stop();
  });

  it('retries a failed upsert after retryMs until one succeeds, and says so', async () => {
    const { queue, upsertJobScheduler } = fakeQueue(['fail', 'fail', 'ok']);
    const kept = keepJobScheduler(queue, options, logger);
    await settle();
    expect(warn).toHaveBeenCalledWith('scheduling the nightly run failed (Connection is closed.); retrying in 1 s');

    await jest.advanceTimersByTimeAsync(999);
    expect(upsertJobScheduler).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(upsertJobScheduler).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(upsertJobScheduler).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(upsertJobScheduler).toHaveBeenCalledTimes(3);
    kept.stop();
  });

  it('counts an upsert that hangs past the deadline as failed', async () => {
    const { queue, upsertJobScheduler } = fakeQueue(['hang', 'ok']);
    const kept = keepJobScheduler(queue, { ...options, deadlineMs: 500 }, logger);
    await jest.advanceTimersByTimeAsync(500);
    expect(warn).toHaveBeenCalledWith('scheduling the nightly run failed (timed out after 500 ms); retrying in 1 s');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(upsertJobScheduler).toHaveBeenCalledTimes(2);
    kept.stop();
  });

  it('upserts again whenever the connection comes back, keeping one retry pending at most', async () => {
    const { queue, upsertJobScheduler, connection } = fakeQueue(['ok', 'fail', 'fail', 'ok']);
    const kept = keepJobScheduler(queue, options, logger);
    await settle();

    connection.emit('ready');
    await settle();
    expect(upsertJobScheduler).toHaveBeenCalledTimes(2);
    // A second reconnection while the retry is pending replaces it rather than adding another.
    connection.emit('ready');
    await settle();
    expect(upsertJobScheduler).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(upsertJobScheduler).toHaveBeenCalledTimes(4);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(upsertJobScheduler).toHaveBeenCalledTimes(4);
    kept.stop();
  });

  it('does nothing more once stopped: no retry, no upsert on reconnection', async () => {
    const { queue, upsertJobScheduler, connection } = fakeQueue(['fail']);
    const kept = keepJobScheduler(queue, options, logger);
    await settle();
    kept.stop();

    await jest.advanceTimersByTimeAsync(5_000);
    connection.emit('ready');
    await settle();
    expect(upsertJobScheduler).toHaveBeenCalledTimes(1);
    expect(await kept.ensure()).toBe(false);
  });
});
