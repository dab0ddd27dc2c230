import type { Queue, Worker } from 'bullmq';
import { Cluster, RedisOptions } from 'ioredis';

import { bullPrefix } from '@latchkey/contracts';

import { clusterNodesOf, clusterOptions, redisConnectionOptions, RedisPurpose, RedisUrlSource } from '../redis/redis-connection';

/** Cluster clients made for one queue or worker: BullMQ leaves a client it was given open, so closeBullmq closes it. */
const ownedClients = new WeakMap<object, Cluster>();

type Source = RedisUrlSource & { get(key: 'REDIS_PREFIX'): string | undefined };

/**
 * The key prefix of `queue`. On a single Redis it is the deployment's (`lk:bull`). On a
 * Redis Cluster every key of one queue must hash to one slot, so the prefix carries the
 * queue's name as a hash tag (`lk:bull:{usage}`), which also spreads the queues over the
 * shards, unless REDIS_PREFIX has its own tag, which then keeps every key on one shard.
 */
export function queuePrefix(source: Source, queue: string): string {
  const prefix = bullPrefix(source.get('REDIS_PREFIX')!);
  if (!clusterNodesOf(source) || prefix.includes('{')) return prefix;
  return `${prefix}:{${queue}}`;
}

/** BullMQ's connection for `purpose`: options on a single Redis, a new cluster client on a cluster (attachConnection it to its queue or worker). */
export function bullConnection(source: RedisUrlSource, purpose: RedisPurpose): RedisOptions | Cluster {
  const nodes = clusterNodesOf(source);
  if (!nodes) return redisConnectionOptions(source, purpose);
  return new Cluster(nodes, clusterOptions(source, purpose));
}

/** Records that `target` was built on `connection`, so closing the target closes a cluster client too. */
export function attachConnection(target: Queue | Worker, connection: RedisOptions | Cluster): void {
  if (connection instanceof Cluster) {
    connection.on('error', () => undefined);
    ownedClients.set(target, connection);
  }
}

/** Closes the cluster client a queue or worker was built on, if any (after the target itself closed). */
export function releaseConnection(target: Queue | Worker): void {
  const client = ownedClients.get(target);
  ownedClients.delete(target);
  client?.disconnect();
}
