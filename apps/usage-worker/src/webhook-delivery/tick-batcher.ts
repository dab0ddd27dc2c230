/**
 * Gathers the calls made during one turn of the event loop into one call of `run`,
 * as a database does group commit. A burst of deliveries finishes many jobs per turn;
 * each used to cost its own Postgres round trip (and commit), which on a busy
 * machine was the largest share of a delivery's CPU. A lone call is not delayed: the
 * batch is sent from setImmediate, in the same turn. `run` answers one result per
 * input, in order; if it throws, every call of the batch rejects with its error.
 */
export class TickBatcher<In, Out> {
  private pending: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];

  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly maxBatch: number,
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
    Promise.resolve()
      .then(() => this.run(batch.map((call) => call.input)))
      .then(
        (outs) => batch.forEach((call, index) => call.resolve(outs[index])),
        (error: unknown) => batch.forEach((call) => call.reject(error)),
      );
  }
}
