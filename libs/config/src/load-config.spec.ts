import { ConfigError, loadConfig } from './load-config';
import { ALL_TARGETS } from './service-target';

/** Production settings that pass validation; each test removes or breaks one thing. */
const PRODUCTION: Record<string, string> = {
  NODE_ENV: 'production',
  KEY_HASH_SECRET: 'k'.repeat(40),
  ENCRYPTION_KEY: 'ab'.repeat(32),
  PLATFORM_ADMIN_TOKEN: 'p'.repeat(30),
  SMTP_URL: 'smtp://mail.internal:25',
  INTERNAL_TOKEN: 'i'.repeat(24),
  SERVICE_SECRET: 's'.repeat(40),
};

function configErrorOf(source: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(source);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe(loadConfig.name, () => {
  it('applies the documented defaults outside production, development secrets included', () => {
    const sut = loadConfig({});

    expect(sut).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/latchkey',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'lk',
      TARGET: 'all',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: false,
      LOG_LEVEL: 'info',
      SESSION_TTL_HOURS: 12,
      LOGIN_MAX_FAILURES: 5,
      LOGIN_LOCK_SECONDS: 900,
    });
    expect(sut.targets).toEqual([...ALL_TARGETS]);
    expect(sut.KEY_HASH_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(sut.ENCRYPTION_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(sut.PLATFORM_ADMIN_TOKEN.length).toBeGreaterThanOrEqual(24);
    expect(sut.webhookRetryScheduleMs[0]).toBe(5_000);
  });

  it('batches usage events by default so metering stays under 0.01 Postgres transactions per check, last_used_at within seconds', () => {
    const sut = loadConfig({});
    // One usage job (one worker transaction) per flush: every USAGE_FLUSH_MS, or sooner when a batch fills.
    const checksPerSecond = 1_000;
    const jobsPerSecond = Math.max(1_000 / sut.USAGE_FLUSH_MS, checksPerSecond / sut.USAGE_BATCH_SIZE);
    // Half the budget of docs/performance.md#targets: the other half is the worker's fixed background work (the
    // outbox relay polls).
    expect(jobsPerSecond / checksPerSecond).toBeLessThanOrEqual(0.005);
    expect(sut.USAGE_FLUSH_MS).toBeLessThanOrEqual(2_000);
  });

  it('treats an empty variable as unset, so its default applies', () => {
    const sut = loadConfig({ PORT: '', LOG_LEVEL: '' });

    expect(sut.PORT).toBe(3000);
    expect(sut.LOG_LEVEL).toBe('info');
  });

  it('parses numbers, booleans and the retry schedule from their strings', () => {
    const sut = loadConfig({ PORT: '8080', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '500ms, 2s,1m,1h,1d' });

    expect(sut.PORT).toBe(8080);
    expect(sut.WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(true);
    expect(sut.webhookRetryScheduleMs).toEqual([500, 2_000, 60_000, 3_600_000, 86_400_000]);
  });

  it('starts in production when every secret is set', () => {
    const sut = loadConfig(PRODUCTION);

    expect(sut.NODE_ENV).toBe('production');
    expect(sut.KEY_HASH_SECRET).toBe(PRODUCTION.KEY_HASH_SECRET);
  });

  it('refuses production without secrets and names each missing variable', () => {
    const error = configErrorOf({ NODE_ENV: 'production' });

    expect(error.message).toContain('Invalid environment variables');
    for (const name of ['KEY_HASH_SECRET', 'ENCRYPTION_KEY', 'PLATFORM_ADMIN_TOKEN', 'SERVICE_SECRET', 'INTERNAL_TOKEN']) {
      expect(error.message).toContain(`${name} is required when NODE_ENV=production`);
    }
    expect(error.problems.filter((problem) => problem.includes('is required'))).toHaveLength(6);
  });

  it('refuses production without SMTP_URL: verification and invitation mail would never leave', () => {
    const withoutSmtp = { ...PRODUCTION };
    delete withoutSmtp.SMTP_URL;

    expect(configErrorOf(withoutSmtp).problems).toEqual(['SMTP_URL is required when NODE_ENV=production (mail cannot be sent)']);
  });

  it('never falls back to a development secret in production', () => {
    const withoutHashSecret = { ...PRODUCTION };
    delete withoutHashSecret.KEY_HASH_SECRET;

    const error = configErrorOf(withoutHashSecret);

    expect(error.problems).toEqual(['KEY_HASH_SECRET is required when NODE_ENV=production']);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['TARGET', 'billing'],
    ['ENCRYPTION_KEY', 'not-hex'],
    ['ENCRYPTION_KEY', 'ab'.repeat(16)],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://localhost/latchkey'],
    ['WEBHOOK_RETRY_SCHEDULE', 'soon'],
    ['WEBHOOK_MAX_ENDPOINTS', '0'],
    ['WEBHOOK_MAX_ENDPOINTS', 'many'],
    ['DATABASE_DIRECT_URL', 'mysql://localhost/latchkey'],
    ['DATABASE_POOL_MAX', '0'],
    ['DATABASE_POOL_MAX', 'ten'],
    ['DATABASE_POOL_MAX', '501'],
  ])('names a bad %s (%s)', (name, value) => {
    const error = configErrorOf({ [name]: value });

    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}[=:]`));
  });

  it('sends LISTEN and migrations to DATABASE_URL unless DATABASE_DIRECT_URL names a session connection of their own', () => {
    const pooled = 'postgres://app:pw@pgbouncer:6432/latchkey';
    const direct = 'postgres://app:pw@postgres:5432/latchkey';

    expect(loadConfig({ DATABASE_URL: pooled }).DATABASE_DIRECT_URL).toBe(pooled);
    expect(loadConfig({ DATABASE_URL: pooled, DATABASE_DIRECT_URL: direct })).toMatchObject({
      DATABASE_URL: pooled,
      DATABASE_DIRECT_URL: direct,
    });
  });

  it('opens ten connections per process unless DATABASE_POOL_MAX says otherwise', () => {
    expect(loadConfig({}).DATABASE_POOL_MAX).toBe(10);
    expect(loadConfig({ DATABASE_POOL_MAX: '3' }).DATABASE_POOL_MAX).toBe(3);
  });

  it('names an unknown target and the ones it accepts', () => {
    const error = configErrorOf({ TARGET: 'org-api,billing' });

    expect(error.message).toContain('TARGET');
    expect(error.message).toContain('billing');
    expect(error.message).toContain('auth-check');
  });

  it('refuses a production start without INTERNAL_TOKEN, saying what it guards', () => {
    const withoutToken = { ...PRODUCTION };
    delete withoutToken.INTERNAL_TOKEN;

    expect(configErrorOf(withoutToken).problems).toEqual([
      'INTERNAL_TOKEN is required when NODE_ENV=production (it guards POST /v1/verify and GET /v1/check)',
    ]);
  });

  it('reads two comma-separated internal tokens, for a rotation without downtime', () => {
    const current = 'current-internal-token-0001';
    const next = 'next-internal-token-000002';

    expect(loadConfig({ ...PRODUCTION, INTERNAL_TOKEN: `${current}, ${next}` }).internalTokens).toEqual([current, next]);
    expect(loadConfig({ ...PRODUCTION, INTERNAL_TOKEN: current }).internalTokens).toEqual([current]);
    expect(loadConfig({}).internalTokens).toEqual([]);
  });

  it('reads two comma-separated service secrets the same way, and has a development one', () => {
    const current = 'current-service-secret-000000000001';
    const next = 'next-service-secret-00000000000000002';

    expect(loadConfig({ ...PRODUCTION, SERVICE_SECRET: `${current},${next}` }).serviceSecrets).toEqual([current, next]);
    expect(loadConfig({}).serviceSecrets).toEqual([expect.stringMatching(/^dev-only-/)]);
    const error = configErrorOf({ ...PRODUCTION, SERVICE_SECRET: `${current},too-short` });
    expect(error.problems).toEqual([expect.stringMatching(/^SERVICE_SECRET=<hidden>: must be one value, or two/)]);
    expect(error.message).not.toContain(current);
  });

  it.each([
    ['an empty entry', 'current-internal-token-0001,'],
    ['a short entry', 'current-internal-token-0001,short'],
    ['three entries', 'first-internal-token-0001,second-internal-token-002,third-internal-token-0003'],
  ])('refuses INTERNAL_TOKEN with %s, without echoing it', (_, value) => {
    const error = configErrorOf({ ...PRODUCTION, INTERNAL_TOKEN: value });

    expect(error.problems).toEqual([expect.stringMatching(/^INTERNAL_TOKEN=<hidden>: must be one value, or two/)]);
    expect(error.message).not.toContain('internal-token-0001');
  });

  it('takes a Redis Cluster node list and a REDIS_PREFIX with one hash tag, and refuses malformed ones', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-0.internal:6379, 10.0.0.5:6380' }).REDIS_CLUSTER_NODES).toBe(
      'redis-0.internal:6379, 10.0.0.5:6380',
    );
    expect(loadConfig({ REDIS_PREFIX: '{lk}' }).REDIS_PREFIX).toBe('{lk}');
    expect(configErrorOf({ REDIS_CLUSTER_NODES: 'redis-0.internal' }).problems).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES=.*host:port/),
    ]);
    expect(configErrorOf({ REDIS_PREFIX: '{a}{b}' }).problems).toEqual([expect.stringMatching(/^REDIS_PREFIX=.*hash tag/)]);
  });

  it('names every bad variable at once', () => {
    const error = configErrorOf({ PORT: '-1', TARGET: 'nope', ENCRYPTION_KEY: 'xyz' });

    const named = error.problems.map((problem) => /^(\w+)/.exec(problem)?.[1]).sort();
    expect(named).toEqual(['ENCRYPTION_KEY', 'PORT', 'TARGET']);
  });

  it.each([
    ['KEY_HASH_SECRET', 'too-short-but-very-secret'],
    ['ENCRYPTION_KEY', 'zz-secret-material-zz'],
    ['PLATFORM_ADMIN_TOKEN', 'short-admin-secret'],
    ['INTERNAL_TOKEN', 'tiny-secret'],
    // URLs carry passwords: a malformed one is named, never shown.
    ['REDIS_URL', 'redis//latchkey:pw-secret-1@redis:6379'],
    ['DATABASE_URL', 'postgres//app:pw-secret-2@db/latchkey'],
    ['DATABASE_DIRECT_URL', 'postgres//app:pw-secret-3@db/latchkey'],
  ])('never echoes the value of the secret %s', (name, value) => {
    const error = configErrorOf({ ...PRODUCTION, [name]: value });

    expect(error.message).toContain(name);
    expect(error.message).toContain('<hidden>');
    expect(error.message).not.toContain(value);
  });

  it('shows a non-secret bad value, so the operator sees what was set', () => {
    const error = configErrorOf({ PORT: 'eighty' });

    expect(error.message).toContain('"eighty"');
  });

  it.each([
    ['all', [...ALL_TARGETS]],
    ['org-api', ['org-api']],
    ['org-api,auth-check', ['org-api', 'auth-check']],
    [' key-issuer , usage-worker ,', ['key-issuer', 'usage-worker']],
    ['auth-check,auth-check', ['auth-check']],
    ['org-api,all', [...ALL_TARGETS]],
  ])('parses TARGET=%j', (target, expected) => {
    const sut = loadConfig({ TARGET: target });

    expect(sut.targets).toEqual(expected);
  });
});
