import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import Redis from 'ioredis';

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

  /** SIGKILL one node: a master's replica takes over after cluster-node-timeout. */
  async kill(port: number): Promise<void> {
    const child = this.nodes.get(port);
    this.nodes.delete(port);
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Until every live node says cluster_state:ok and every slot has a master. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        [...this.nodes.keys()].map(async (port) => {
          const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
          try {
            await probe.connect();
            return /cluster_state:ok/.test(await probe.cluster('INFO'));
          } catch {
            return false;
          } finally {
            probe.disconnect();
          }
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not become healthy');
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startNode(port: number): Promise<void> {
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
        join(this.dir, `nodes-${port}.conf`),
        // A dead master is replaced within seconds, not the default 15 s.
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
