import { TickBatcher } from './tick-batcher';

describe(TickBatcher.name, () => {
  it('answers calls made in one turn with one run, each with its own result', async () => {
    const runs: number[][] = [];
    const sut = new TickBatcher(async (inputs: number[]) => {
      runs.push(inputs);
      return inputs.map((input) => input * 10);
    }, 100);

    const results = await Promise.all([sut.call(1), sut.call(2), sut.call(3)]);

    expect(results).toEqual([10, 20, 30]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('splits a turn into runs of at most maxBatch calls', async () => {
    const runs: number[][] = [];
    const sut = new TickBatcher(async (inputs: number[]) => {
      runs.push(inputs);
      return inputs;
    }, 2);

    await Promise.all([1, 2, 3, 4, 5].map((input) => sut.call(input)));

    expect(runs).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('starts a new batch for calls made after a run began', async () => {
    const runs: number[][] = [];
    const sut = new TickBatcher(async (inputs: number[]) => {
      runs.push(inputs);
      return inputs;
    }, 100);

    await sut.call(1);
    await sut.call(2);

    expect(runs).toEqual([[1], [2]]);
  });

  it('rejects every call of a batch whose run fails, and keeps serving later calls', async () => {
    let fail = true;
    const sut = new TickBatcher(async (inputs: number[]) => {
      if (fail) throw new Error('database away');
      return inputs;
    }, 100);

    const first = await Promise.allSettled([sut.call(1), sut.call(2)]);
    fail = false;

    expect(first.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(sut.call(3)).resolves.toBe(3);
  });

  it('with isolateFailures, runs the inputs of a failed batch one by one, so only the bad one fails', async () => {
    const runs: number[][] = [];
    const sut = new TickBatcher(
      async (inputs: number[]) => {
        runs.push(inputs);
        if (inputs.includes(2)) throw new Error('row 2 is gone');
        return inputs.map((input) => input * 10);
      },
      100,
      { isolateFailures: true },
    );

    const results = await Promise.allSettled([sut.call(1), sut.call(2), sut.call(3)]);

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[0]).toMatchObject({ value: 10 });
    expect(results[2]).toMatchObject({ value: 30 });
    expect(runs).toEqual([[1, 2, 3], [1], [2], [3]]);
  });
});
