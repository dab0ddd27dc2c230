import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import Redis from 'ioredis';

import { freePort } from './free-port';

const run = promisify(execFile);

/** Every node started here, killed when the test process exits, whatever the test did. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/**
 * A throw-away Redis Cluster on local ports (three masters, a replica each), for the
 * cluster tier: never the shared Redis on 6379. Nodes keep no data across restarts.
 */
export class OwnRedisCluster {
  private readonly nodes = new Map<number, ChildProcess>();
  /** Each node's cluster bus port, kept across a restart (its nodes.conf names it). */
  private readonly busPorts = new Map<number, number>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  static async start(masters = 3, replicasEach = 1): Promise<OwnRedisCluster> {
    const ports: number[] = [];
    for (let i = 0; i < masters * (1 + replicasEach); i += 1) ports.push(await freePort());
    const cluster = new OwnRedisCluster(ports, mkdtempSync(join(tmpdir(), 'latchkey-cluster-')));
    await Promise.all(ports.map((port) => cluster.startNode(port)));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      String(replicasEach),
      '--cluster-yes',
    ]);
    await cluster.waitUntilHealthy();
    return cluster;
  }

  /** REDIS_CLUSTER_NODES for this cluster. */
  get seedNodes(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  /** The ports of the current masters. */
  async masters(): Promise<number[]> {
    const probe = new Redis(
      this.ports.find((port) => this.nodes.has(port))!,
      '127.0.0.1',
    );
    try {
      const slots = await probe.cluster('SLOTS');
      return [...new Set(slots.map(([, , master]) => master[1]))];
    } finally {
      probe.disconnect();
    }
  }

  /** The port of the master serving `key`'s slot now. */
  async masterOf(key: string): Promise<number> {
    const probe = new Redis(
      this.ports.find((port) => this.nodes.has(port))!,
      '127.0.0.1',
    );
    try {
      const slot = Number(await probe.cluster('KEYSLOT', key));
      const slots = await probe.cluster('SLOTS');
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range[2][1];
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILL one node: a master's replica takes over after cluster-node-timeout. */
  async kill(port: number): Promise<void> {
    const child = this.nodes.get(port);
    this.nodes.delete(port);
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Until every live node says cluster_state:ok, and every live replica has synced with its master. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all([...this.nodes.keys()].map((port) => nodeIsHealthy(port)));
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not become healthy');
      await sleep(200);
    }
  }

  /**
   * Starts a killed node again with what its nodes.conf remembers: it rejoins the cluster,
   * as the replica of the node that took its place if it was a master.
   */
  async revive(port: number): Promise<void> {
    if (this.nodes.has(port)) return;
    await this.startNode(port);
    await this.waitUntilHealthy();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async busPortOf(port: number): Promise<number> {
    let busPort = this.busPorts.get(port);
    if (busPort === undefined) this.busPorts.set(port, (busPort = await freePort()));
    return busPort;
  }

  private async startNode(port: number): Promise<void> {
    // Its own folder: replicas sync through a dump file, which nodes sharing a folder would overwrite.
    const dir = join(this.dir, String(port));
    mkdirSync(dir, { recursive: true });
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        // The bus port is the client port + 10000 unless told: past 55535 that is no port at all.
        '--cluster-port',
        String(await this.busPortOf(port)),
        // A dead master is replaced within seconds, not the default 15 s.
        '--cluster-node-timeout',
        '2000',
        // A replica's first sync starts at once, not after the default 5 s wait for more replicas.
        '--repl-diskless-sync-delay',
        '0',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    running.add(child);
    child.once('exit', () => running.delete(child));
    this.nodes.set(port, child);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}`);
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      await sleep(50);
    }
    throw new Error(`redis-server did not start on port ${port}`);
  }
}

async function nodeIsHealthy(port: number): Promise<boolean> {
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await probe.connect();
    if (!/cluster_state:ok/.test(await probe.cluster('INFO'))) return false;
    const replication = await probe.info('replication');
    return !/role:slave/.test(replication) || /master_link_status:up/.test(replication);
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
