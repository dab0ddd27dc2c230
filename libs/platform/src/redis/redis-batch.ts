import { Cluster } from 'ioredis';

import type { RedisClient } from './redis-connection';

type Argument = string | number;

/**
 * Commands sent together, their replies read back in order. On one Redis they go as
 * one pipeline; a Redis Cluster takes a pipeline only when every key is on one node,
 * so there each command goes to its key's node, and the cluster client's
 * auto-pipelining batches them per node. Not atomic either way (use a script for that).
 */
export class RedisBatch {
  private readonly commands: Array<[string, Argument[]]> = [];

  constructor(private readonly client: RedisClient) {}

  add(command: string, ...args: Argument[]): this {
    this.commands.push([command, args]);
    return this;
  }

  get length(): number {
    return this.commands.length;
  }

  /** The replies in the order the commands were added; the first failed command's error is thrown. */
  async exec(): Promise<unknown[]> {
    if (this.commands.length === 0) return [];
    if (this.client instanceof Cluster) {
      const cluster = this.client;
      return Promise.all(this.commands.map(([command, args]) => cluster.call(command, ...args)));
    }
    const pipeline = this.client.pipeline();
    for (const [command, args] of this.commands) pipeline.call(command, ...args);
    const replies = await pipeline.exec();
    if (!replies) throw new Error('the redis pipeline was not run');
    return replies.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
  }
}
