import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** A Latchkey process (test/support/usage-worker-child.ts) running in its own OS process. */
export class ChildProcessApp {
  private stderr = '';
  /** The port it listens on (started with `listen`), else 0. */
  port = 0;

  private constructor(readonly child: ChildProcess) {}

  /** Starts the child with these environment variables and waits until it is initialised. */
  static async start(env: Record<string, string>, timeoutMs = 60_000, options: { listen?: boolean } = {}): Promise<ChildProcessApp> {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(ROOT, 'test/support/usage-worker-child.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        TZ: 'UTC',
        SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'),
        LATCHKEY_CHILD_ENV: JSON.stringify(env),
        LATCHKEY_CHILD_LISTEN: options.listen ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const app = new ChildProcessApp(child);
    child.stderr.on('data', (chunk: Buffer) => {
      app.stderr = (app.stderr + chunk.toString()).slice(-20_000);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not start within ${timeoutMs} ms: ${app.stderr}`)), timeoutMs);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        if (app.port || out === 'done') return;
        out += chunk.toString();
        const ready = /^ready(?: (\d+))?$/m.exec(out);
        if (ready) {
          app.port = Number(ready[1] ?? 0);
          out = 'done';
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`child exited (${code ?? signal}) before it was ready: ${app.stderr}`));
      });
    });
    return app;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.stderr;
  }

  /** SIGKILL: no shutdown hook runs, whatever it held is abandoned. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM: graceful shutdown. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    await exited;
  }
}
