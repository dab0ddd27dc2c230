import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { waitUntil } from '../../support/wait-until';

export const run = promisify(execFile);
export const REPO = join(__dirname, '..', '..', '..');
const SDK = join(REPO, 'packages', 'sdk');
/** Held while one file builds and packs: tsup cleans dist/, so two builds at once would pack half a build. */
const BUILD_LOCK = join(tmpdir(), 'latchkey-sdk-build.lock');

/** What a scratch project may borrow from the repo: the SDK's optional peers and what a Nest app loads first. */
export type BorrowedPackage = 'ioredis' | '@nestjs' | 'reflect-metadata';

export interface PackedSdk {
  /** The scratch project's directory; the SDK is in its node_modules. */
  dir: string;
  remove(): Promise<void>;
}

/**
 * The SDK as a new user gets it: built, packed with `npm pack`, and installed from the
 * tarball (offline: it has no dependencies) into a fresh project of `type`. The optional
 * peers it needs are the repo's copies, linked in `borrow`.
 */
export async function installPackedSdk(
  options: { prefix?: string; type?: 'module' | 'commonjs'; borrow?: BorrowedPackage[] } = {},
): Promise<PackedSdk> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'latchkey-sdk-'));
  const filename = await withBuildLock(async () => {
    await run('npm', ['run', 'build:sdk'], { cwd: REPO });
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: SDK });
    return (JSON.parse(stdout) as Array<{ filename: string }>)[0].filename;
  });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: options.type ?? 'module' }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, filename)], { cwd: dir });
  for (const name of options.borrow ?? []) {
    await symlink(join(REPO, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  let lock: Awaited<ReturnType<typeof open>> | undefined;
  await waitUntil(
    async () => {
      lock = await open(BUILD_LOCK, 'wx').catch(() => undefined);
      if (lock) return true;
      // A lock left by a run that was killed mid-build: no build takes five minutes.
      const held = await stat(BUILD_LOCK).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > 300_000) await rm(BUILD_LOCK, { force: true });
      return false;
    },
    170_000,
    `the SDK build lock ${BUILD_LOCK}`,
  );
  try {
    return await work();
  } finally {
    await lock?.close();
    await rm(BUILD_LOCK, { force: true });
  }
}
