import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '../../..');
const APP_TARGETS = ['org-api', 'key-issuer', 'auth-check', 'usage-worker'] as const;

/** The secrets docker-compose.yml requires through `${VAR:?}`. */
const REQUIRED_ENV = {
  POSTGRES_PASSWORD: 'e2e0postgres0password',
  KEY_HASH_SECRET: 'e2e-key-hash-secret-of-at-least-32-chars',
  ENCRYPTION_KEY: 'ab'.repeat(32),
  PLATFORM_ADMIN_TOKEN: 'e2e-platform-admin-token-000',
  INTERNAL_TOKEN: 'e2e-internal-token-0000000',
  SERVICE_SECRET: 'e2e-service-secret-of-at-least-32-chars',
  SMTP_URL: 'smtp://mail.example.test:587',
  REDIS_PASSWORD: 'e2e0redis0password',
};

interface ComposeResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The compose CLI: Debian's docker-compose v1 (which `npm test` installs) or the v2
 * plugin. `config` resolves and validates the file and needs no Docker engine.
 */
async function compose(args: string[], env: Record<string, string>): Promise<ComposeResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of Object.keys(REQUIRED_ENV)) {
    if (!(name in env)) delete childEnv[name];
  }
  const attempts: Array<[string, string[]]> = [
    ['docker-compose', ['-f', 'docker-compose.yml', ...args]],
    ['docker', ['compose', '-f', 'docker-compose.yml', ...args]],
  ];
  for (const [command, commandArgs] of attempts) {
    try {
      const { stdout, stderr } = await run(command, commandArgs, { cwd: ROOT, env: childEnv, timeout: 20_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failure = error as { code?: unknown; stdout?: string; stderr?: string };
      if (failure.code === 'ENOENT') continue; // this CLI is not installed; try the next
      if (command === 'docker' && /is not a docker command|unknown command/i.test(failure.stderr ?? '')) continue;
      return { code: typeof failure.code === 'number' ? failure.code : 1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
    }
  }
  throw new Error('Neither docker-compose nor `docker compose` is installed; `npm test` installs docker-compose when run as root.');
}

/**
 * Service name -> environment, read from `compose config` output. That output is
 * normalised block YAML (two-space indents, `KEY: value` or `- KEY=value`), so a
 * line reader suffices and the test needs no YAML library.
 */
function servicesOf(yaml: string): Map<string, Record<string, string>> {
  const services = new Map<string, Record<string, string>>();
  let inServices = false;
  let current: Record<string, string> | undefined;
  let inEnvironment = false;
  for (const line of yaml.split('\n')) {
    if (/^\S/.test(line)) {
      inServices = line.startsWith('services:');
      current = undefined;
      continue;
    }
    if (!inServices) continue;
    const service = /^ {2}([\w.-]+):\s*$/.exec(line);
    if (service) {
      current = {};
      services.set(service[1], current);
      inEnvironment = false;
      continue;
    }
    if (/^ {4}\S/.test(line)) {
      inEnvironment = /^ {4}environment:\s*$/.test(line);
      continue;
    }
    const variable = /^ {6}(?:- )?([A-Z0-9_]+)(?::\s*|=)(.*)$/.exec(line);
    if (current && inEnvironment && variable) current[variable[1]] = variable[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return services;
}

describe('docker-compose.yml (the split deployment)', () => {
  let resolved: ComposeResult;

  beforeAll(async () => {
    resolved = await compose(['config'], REQUIRED_ENV);
  });

  it('is valid for the compose CLI when its required variables are set', () => {
    expect(resolved.stderr).not.toMatch(/error/i);
    expect(resolved.code).toBe(0);
  });

  it('names postgres, redis, the four apps and the proxy', async () => {
    const listed = await compose(['config', '--services'], REQUIRED_ENV);

    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n').filter(Boolean).sort()).toEqual(
      ['auth-check', 'key-issuer', 'org-api', 'postgres', 'proxy', 'redis', 'usage-worker'].sort(),
    );
    expect([...servicesOf(resolved.stdout).keys()].sort()).toEqual(listed.stdout.split('\n').filter(Boolean).sort());
  });

  it.each(APP_TARGETS)('runs %s from the shared image with its own TARGET in production mode', (target) => {
    const env = servicesOf(resolved.stdout).get(target);

    expect(env).toMatchObject({
      TARGET: target,
      NODE_ENV: 'production',
      KEY_HASH_SECRET: REQUIRED_ENV.KEY_HASH_SECRET,
      DATABASE_URL: `postgres://postgres:${REQUIRED_ENV.POSTGRES_PASSWORD}@postgres:5432/latchkey`,
      REDIS_URL: `redis://latchkey:${REQUIRED_ENV.REDIS_PASSWORD}@redis:6379`,
    });
    // Logged in as the ACL user: the default user is off, see below.
    const redisUrl = new URL(env?.REDIS_URL ?? '');
    expect([redisUrl.username, redisUrl.password]).toEqual(['latchkey', REQUIRED_ENV.REDIS_PASSWORD]);
  });

  it('lets only org-api migrate, so containers never race on the same migration', () => {
    const services = servicesOf(resolved.stdout);

    expect(services.get('org-api')?.MIGRATE_ON_START).toBeUndefined();
    for (const target of APP_TARGETS.filter((name) => name !== 'org-api')) {
      expect(services.get(target)?.MIGRATE_ON_START).toBe('false');
    }
  });

  it('runs Redis with the persistence and eviction policy BullMQ needs', () => {
    expect(resolved.stdout).toMatch(/- --appendonly\s+- "?yes"?/);
    expect(resolved.stdout).toMatch(/- --maxmemory-policy\s+- noeviction/);
  });

  it('runs Redis with the default user off and one ACL user with the password', () => {
    // Without credentials a client gets NOAUTH: the default user is the password-less one.
    expect(resolved.stdout).toMatch(/- --user\s+- default\s+- "?off"?\s/);
    expect(resolved.stdout).toMatch(new RegExp(`- --user\\s+- latchkey\\s+- "?on"?\\s+- '?>${REQUIRED_ENV.REDIS_PASSWORD}'?\\s`));
    expect(resolved.stdout).not.toMatch(/nopass/);
  });

  it('checks Redis health as that user, failing on a refused login', () => {
    const redis = /^ {2}redis:\s*$([\s\S]*?)^ {2}\S/m.exec(resolved.stdout)?.[1] ?? '';

    expect(servicesOf(resolved.stdout).get('redis')).toEqual({ REDISCLI_AUTH: REQUIRED_ENV.REDIS_PASSWORD });
    // redis-cli exits 0 on NOAUTH: only the PONG tells a login that worked.
    expect(redis).toMatch(/redis-cli --user latchkey ping \| grep -qx PONG/);
    expect(redis).not.toContain(`-a ${REQUIRED_ENV.REDIS_PASSWORD}`);
  });

  it('checks every app on /health/ready', () => {
    const checks = resolved.stdout.match(/\/health\/ready/g) ?? [];

    expect(checks.length).toBeGreaterThanOrEqual(APP_TARGETS.length);
  });

  it('refuses to resolve without the secrets, naming the missing one', async () => {
    const withoutHashSecret: Record<string, string> = { ...REQUIRED_ENV };
    delete withoutHashSecret.KEY_HASH_SECRET;

    const refused = await compose(['config'], withoutHashSecret);

    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('KEY_HASH_SECRET');
  });

  it('refuses to resolve without REDIS_PASSWORD: there is no Redis without a password', async () => {
    const withoutRedisPassword: Record<string, string> = { ...REQUIRED_ENV };
    delete withoutRedisPassword.REDIS_PASSWORD;

    const refused = await compose(['config'], withoutRedisPassword);

    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('REDIS_PASSWORD');
  });
});

/**
 * The proxy's route table (deploy/nginx/latchkey.conf), read the way nginx reads a
 * `map` of regexes: first match in file order wins, `default` otherwise.
 */
describe('the proxy routes (deploy/nginx/latchkey.conf)', () => {
  const conf = readFileSync(join(ROOT, 'deploy/nginx/latchkey.conf'), 'utf8');
  const mapBody = /map \$uri \$latchkey_backend \{([\s\S]*?)\n\}/.exec(conf)?.[1] ?? '';
  const rules = [...mapBody.matchAll(/^\s*~(\S+)\s+([\w.-]+):\d+;/gm)].map(([, pattern, host]) => ({ pattern: new RegExp(pattern), host }));
  const fallback = /^\s*default\s+([\w.-]+):\d+;/m.exec(mapBody)?.[1];
  const backendOf = (path: string) => rules.find((rule) => rule.pattern.test(path))?.host ?? fallback;

  it.each([
    ['/v1/auth/login', 'org-api'],
    ['/v1/members', 'org-api'],
    ['/v1/orgs/org_1', 'org-api'],
    ['/v1/platform/orgs', 'org-api'],
    ['/v1/audit-logs', 'org-api'],
    ['/v1/webhooks/whe_1', 'org-api'],
    ['/v1/alerts', 'org-api'],
    ['/v1/openapi.json', 'org-api'],
    ['/docs', 'org-api'],
    ['/health/ready', 'org-api'],
    ['/console/', 'org-api'],
    ['/console/keys/key_1', 'org-api'],
    ['/', 'org-api'],
    ['/v1/api-keys', 'key-issuer'],
    ['/v1/api-keys/key_1/roll', 'key-issuer'],
    ['/v1/usage', 'key-issuer'],
    ['/v1/logs', 'key-issuer'],
    ['/v1/verify', 'auth-check'],
    ['/v1/check', 'auth-check'],
    ['/v1/api-keysmith', 'org-api'],
    ['/v1/unknown', 'org-api'],
  ])('sends %s to %s', (path, service) => {
    expect(rules.length).toBeGreaterThan(0);
    expect(backendOf(path)).toBe(service);
  });
});
