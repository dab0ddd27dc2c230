/**
 * Gathers the calls made during one turn of the event loop into one call of `run`,
 * as a database does group commit. A burst of deliveries finishes many jobs per turn;
 * each used to cost its own Postgres round trip (and commit), which on a busy
 * machine was the largest share of a delivery's CPU. A lone call is not delayed: the
 * batch is sent from setImmediate, in the same turn. `run` answers one result per
 * input, in order; if it throws, every call of the batch rejects with its error —
 * unless `isolateFailures` is set: then each input of a failed batch is run again on
 * its own, so one bad input (a row deleted mid-statement, a deadlock with another
 * batch) fails alone instead of failing, and re-sending, all its neighbours.
 */
export class TickBatcher<In, Out> {
  private pending: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];

  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly maxBatch: number,
    private readonly options: { isolateFailures?: boolean } = {},
  ) {}

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    // A synchronous throw in `run` rejects the batch like an asynchronous one.
    this.runBatch(batch, (error) => {
      if (this.options.isolateFailures && batch.length > 1) batch.forEach((call) => this.runBatch([call], (own) => call.reject(own)));
      else batch.forEach((call) => call.reject(error));
    });
  }

  private runBatch(batch: typeof this.pending, onError: (error: unknown) => void): void {
    Promise.resolve()
      .then(() => this.run(batch.map((call) => call.input)))
      .then((outs) => batch.forEach((call, index) => call.resolve(outs[index])), onError);
  }
}
