import type { Cluster, Redis } from 'ioredis';

type Argument = string | number;

interface Entry {
  args: Argument[];
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * One command, sent for many callers: what is sent to one key within a turn of the
 * event loop goes as one pipeline, one write and one round trip instead of one per call.
 * Grouped by key, since a key has one slot: a Redis Cluster takes such a pipeline too.
 */
export class PerKeyPipeline {
  private pending = new Map<string, Entry[]>();
  private scheduled = false;

  /** `oncePerKey` is added to each key's pipeline once, after its commands (a PEXPIRE, say). */
  constructor(
    private readonly connection: Redis | Cluster,
    private readonly command: string,
    private readonly oncePerKey?: (key: string) => [string, ...Argument[]],
  ) {}

  send(key: string, args: Argument[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let entries = this.pending.get(key);
      if (!entries) this.pending.set(key, (entries = []));
      entries.push({ args, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    for (const [key, entries] of batches) {
      const pipeline = this.connection.pipeline();
      for (const entry of entries) pipeline.call(this.command, key, ...entry.args);
      const extra = this.oncePerKey?.(key);
      if (extra) pipeline.call(...extra);
      pipeline.exec().then(
        (results) => {
          entries.forEach((entry, index) => {
            const [error, value] = results?.[index] ?? [new Error('the pipeline was not run'), null];
            if (error) entry.reject(error);
            else entry.resolve(value);
          });
        },
        (error: Error) => entries.forEach((entry) => entry.reject(error)),
      );
    }
  }
}
