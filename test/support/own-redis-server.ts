import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import Redis from 'ioredis';

import { freePort } from './free-port';

/** Every server started here, killed when the test process exits, whatever the test did. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** A named ACL user with a password; the server then turns its password-less default user off. */
export interface RedisAclUser {
  username: string;
  password: string;
  /** ACL rules after the password; every key, channel and command unless told otherwise. */
  rules?: string[];
}

/**
 * A private, throw-away redis-server for outage tests: they kill, freeze and restart
 * this one only, never the shared Redis on 6379. `durable` keeps an append-only file
 * (fsync always) in a temporary directory across restarts, as a production Redis set
 * up the way docs/operations.md asks; otherwise a restart starts empty. `user` sets it up the
 * way docs/operations.md asks too: no default user, only the named one with its password.
 */
export class OwnRedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string | null,
    private readonly user: RedisAclUser | null,
    private readonly otherUsers: RedisAclUser[],
  ) {}

  /** `otherUsers`: more ACL users beside `user` (an operator's service with a narrower reach, say). */
  static async start(options: { durable?: boolean; user?: RedisAclUser; otherUsers?: RedisAclUser[] } = {}): Promise<OwnRedisServer> {
    const dir = options.durable ? mkdtempSync(join(tmpdir(), 'latchkey-redis-')) : null;
    const server = new OwnRedisServer(await freePort(), dir, options.user ?? null, options.otherUsers ?? []);
    await server.restart();
    return server;
  }

  /** The URL a client of this server uses, with the ACL user's credentials when it has one. */
  get url(): string {
    return this.user ? this.urlAs(this.user.username, this.user.password) : `redis://127.0.0.1:${this.port}`;
  }

  /** This server's URL with the given credentials (right or wrong). */
  urlAs(username: string, password: string): string {
    return `redis://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}`;
  }

  /** Starts the server on the same port: empty, or with what its append-only file kept. */
  async restart(): Promise<void> {
    if (this.child) return;
    const persistence = this.dir ? ['--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const users = this.user ? [this.user, ...this.otherUsers] : [];
    const acl =
      users.length > 0
        ? [
            '--user',
            'default',
            'off',
            ...users.flatMap((user) => ['--user', user.username, 'on', `>${user.password}`, ...(user.rules ?? ['~*', '&*', '+@all'])]),
          ]
        : [];
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, ...acl], {
      stdio: 'ignore',
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const deadline = Date.now() + 15_000; // loading an append-only file takes a moment
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      const probe = new Redis({
        port: this.port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        username: this.user?.username,
        password: this.user?.password,
      });
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') {
          this.child = child;
          return;
        }
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      await sleep(50);
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** SIGKILL: the server and everything in it are gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP / SIGCONT: connections stay open but nothing answers. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills the server for good and removes its files. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A port nothing listens on: a Redis URL that never answers. */
export async function deadRedisUrl(): Promise<string> {
  return `redis://127.0.0.1:${await freePort()}`;
}
