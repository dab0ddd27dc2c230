import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { consoleBuildDir } from '../../apps/org-api/src/console/serve-console';

const ROOT = join(__dirname, '..', '..');
const SOURCES = join(ROOT, 'apps', 'console');

function newestSource(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

async function builtAt(): Promise<number> {
  try {
    return (await stat(join(consoleBuildDir(), 'index.html'))).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Makes sure dist/apps/console is this checkout's console (npm test builds it first; a
 * single `npx jest` of a console spec may not have). One build at a time across Jest
 * workers: a lock folder, waited on by the others.
 */
export async function ensureConsoleBuilt(): Promise<string> {
  if ((await builtAt()) >= newestSource(SOURCES)) return consoleBuildDir();
  const lock = join(ROOT, 'node_modules', '.cache', 'console-build.lock');
  await mkdir(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  // A lock left by a killed run is taken over after a minute (a build takes seconds).
  for (let attempt = 0; ; attempt += 1) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (attempt === 300) await rm(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    if ((await builtAt()) < newestSource(SOURCES)) {
      await promisify(execFile)('npm', ['run', '--silent', 'build:console'], { cwd: ROOT });
    }
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
  return consoleBuildDir();
}
