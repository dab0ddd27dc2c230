import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface MigrateRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `libs/db/src/migrate.ts` in its own process, as a container's entry point runs it, with these variables set. */
export function runMigrate(env: Record<string, string>): Promise<MigrateRun> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'libs/db/src/migrate.ts')], {
    cwd: ROOT,
    env: { ...process.env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json'), NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: MigrateRun = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ ...run, code })));
}
