import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `latchkey login` saves: where it logged in and the session token it got. */
export interface SavedLogin {
  url: string;
  token: string;
  expires_at?: string;
}

/** `$XDG_CONFIG_HOME/latchkey/credentials.json`, `~/.config/latchkey/credentials.json` without it. */
export function credentialsPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'latchkey', 'credentials.json');
}

export async function readLogin(env: NodeJS.ProcessEnv): Promise<SavedLogin | null> {
  try {
    const saved = JSON.parse(await readFile(credentialsPath(env), 'utf8')) as Partial<SavedLogin>;
    return typeof saved.url === 'string' && typeof saved.token === 'string' ? (saved as SavedLogin) : null;
  } catch {
    return null;
  }
}

/** Written readable by its owner only (0600, in a 0700 folder): it holds a bearer token. */
export async function saveLogin(env: NodeJS.ProcessEnv, login: SavedLogin): Promise<string> {
  const path = credentialsPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(login, null, 2) + '\n', { mode: 0o600 });
  await chmod(path, 0o600); // an older file keeps its mode on writeFile
  return path;
}

export async function forgetLogin(env: NodeJS.ProcessEnv): Promise<void> {
  await rm(credentialsPath(env), { force: true });
}
