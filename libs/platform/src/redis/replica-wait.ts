import { Cluster } from 'ioredis';

import type { RedisClient } from './redis-connection';

export interface ReplicaWait {
  /** Replicas that hold every write this client made to the master. */
  held: number;
  /** Replicas connected to that master now: when fewer than asked for, no wait can get more. */
  connected: number;
}

/**
 * Waits (WAIT) until `replicas` replicas hold every write this client made to the
 * master of `key`, for at most `timeoutMs`. WAIT counts only the writes of the
 * connection it runs on, so on a cluster it goes to that master's own connection
 * inside the cluster client, the one that carried the writes.
 */
export async function waitForReplicas(client: RedisClient, key: string, replicas: number, timeoutMs: number): Promise<ReplicaWait> {
  if (replicas <= 0) return { held: 0, connected: 0 };
  const master = client instanceof Cluster ? await masterOf(client, key) : client;
  const held = Number(await master.call('WAIT', replicas, timeoutMs));
  if (held >= replicas) return { held, connected: held };
  // ROLE on a master: ['master', offset, [[host, port, offset], …]].
  const role = (await master.call('ROLE')) as [string, number, unknown[]];
  return { held, connected: Array.isArray(role[2]) ? role[2].length : 0 };
}

/** Slots of the keys asked about: a key's slot never changes, and the usage buffer asks for one key per batch. */
const slotsByKey = new Map<string, number>();

async function masterOf(cluster: Cluster, key: string) {
  let slot = slotsByKey.get(key);
  if (slot === undefined) slotsByKey.set(key, (slot = Number(await cluster.cluster('KEYSLOT', key))));
  const [masterKey] = cluster.slots[slot] ?? [];
  const master = cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === masterKey);
  if (!master) throw new Error(`no master is known for the slot of ${key}`);
  return master;
}
