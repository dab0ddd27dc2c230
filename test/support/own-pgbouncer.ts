import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import { freePort } from './free-port';
import { waitUntil } from './wait-until';

const BINARY = '/usr/sbin/pgbouncer';
/** PgBouncer refuses to run as root; the Debian PostgreSQL packages always create this user. */
const UNPRIVILEGED_USER = 'postgres';

/**
 * A PgBouncer of the test's own in transaction mode (as a deployment at many pods runs
 * one), in front of the shared Postgres: its own port, config and auth file in a temp
 * directory, stopped by `stop()`. The scripts/test.sh bootstrap installs Debian's package.
 */
export class OwnPgBouncer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
    /** The upstream user, which is also the admin console's. */
    private readonly user: string,
  ) {}

  static async start(upstream: URL): Promise<OwnPgBouncer> {
    if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm test as root once, or apt-get install pgbouncer`);
    const root = process.getuid?.() === 0;
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-pgbouncer-'));
    const port = await freePort();
    const user = decodeURIComponent(upstream.username) || 'postgres';
    writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`);
    writeFileSync(
      join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `* = host=${upstream.hostname} port=${upstream.port || '5432'}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        // The shared test Postgres trusts loopback; what matters here is the pooling, not the passwords.
        'auth_type = trust',
        `auth_file = ${join(dir, 'userlist.txt')}`,
        'pool_mode = transaction',
        'max_client_conn = 500',
        'default_pool_size = 5',
        `admin_users = ${user}`,
        `pidfile = ${join(dir, 'pgbouncer.pid')}`,
        `logfile = ${join(dir, 'pgbouncer.log')}`,
        '',
      ].join('\n'),
    );
    if (root) execFileSync('chown', ['-R', UNPRIVILEGED_USER, dir]);
    const command = root ? ['runuser', '-u', UNPRIVILEGED_USER, '--', BINARY] : [BINARY];
    const child = spawn(command[0], [...command.slice(1), join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
    const bouncer = new OwnPgBouncer(child, dir, port, user);
    try {
      await waitUntil(
        () => bouncer.answers(),
        10_000,
        () => `pgbouncer on port ${port}: ${bouncer.log()}`,
      );
    } catch (error) {
      await bouncer.stop();
      throw error;
    }
    return bouncer;
  }

  /** `url` with its host and port moved to this PgBouncer (same user and database). */
  urlFor(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.toString();
  }

  /** A row of `SHOW STATS` (the admin console) for one database: what went through the pooler. */
  async stats(database: string): Promise<{ transactions: number; queries: number }> {
    const admin = new Client({ host: '127.0.0.1', port: this.port, user: this.user, database: 'pgbouncer' });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ database: string; total_xact_count: string; total_query_count: string }>('show stats');
      const row = rows.find((candidate) => candidate.database === database);
      return { transactions: Number(row?.total_xact_count ?? 0), queries: Number(row?.total_query_count ?? 0) };
    } finally {
      await admin.end();
    }
  }

  async stop(): Promise<void> {
    const pidFile = join(this.dir, 'pgbouncer.pid');
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      // PgBouncer itself, by its pid file, rather than runuser in front of it.
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
      if (pid > 0) process.kill(pid, 'SIGTERM');
      else this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private log(): string {
    const file = join(this.dir, 'pgbouncer.log');
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-2_000) : 'no log';
  }

  private async answers(): Promise<boolean> {
    if (this.child.exitCode !== null) throw new Error(`pgbouncer exited (${this.child.exitCode}): ${this.log()}`);
    const client = new Client({ host: '127.0.0.1', port: this.port, user: this.user, database: 'pgbouncer' });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      return false;
    }
  }
}
