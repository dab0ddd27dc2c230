import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, MinLength } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value);
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const normalized = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(normalized)) return false;
  return value;
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable Latchkey reads (docs/configuration.md#variables). Parsed once at
 * boot by `loadConfig`; nothing else in the code base reads `process.env`.
 */
export class EnvSchema {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV!: 'development' | 'test' | 'production';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT!: number;

  /** Address to bind; 0.0.0.0 in containers. */
  @IsString()
  HOST!: string;

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL!: string;

  /**
   * A session connection to the same database for what a transaction-mode pooler
   * (PgBouncer `pool_mode=transaction`) cannot carry: the outbox relay's LISTEN and the
   * migrations' advisory lock. Unset: DATABASE_URL, which then must be a session.
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_DIRECT_URL?: string;

  /** Connections in this process's ORM pool; times the processes, it must stay under what Postgres (or the pooler) accepts. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500)
  DATABASE_POOL_MAX!: number;

  // As the Redis connection factory reads it: no query string, a numeric database if any.
  @Matches(/^rediss?:\/\/[^/?#]+(\/\d*)?$/, { message: 'must be a redis:// or rediss:// URL, with a numeric database if any and no query' })
  REDIS_URL!: string;

  /**
   * A Redis Cluster's seed nodes, `host:port,host:port,…`. When set the processes talk to
   * the cluster; REDIS_URL then gives only the user, the password and TLS (rediss://).
   */
  @IsOptional()
  @Matches(/^\s*[A-Za-z0-9.-]+:\d{1,5}\s*(,\s*[A-Za-z0-9.-]+:\d{1,5}\s*)*$/, { message: 'must be a comma-separated list of host:port' })
  REDIS_CLUSTER_NODES?: string;

  /**
   * Prefix of every Redis key, queue and transport channel this deployment uses,
   * so several deployments (or parallel test files) can share one Redis. Braces make
   * a Redis Cluster hash tag: `{lk}` keeps every key of the deployment on one shard.
   */
  @Matches(/^[A-Za-z0-9:_-]*(\{[A-Za-z0-9:_-]+\})?[A-Za-z0-9:_-]*$/, { message: 'must be A-Z a-z 0-9 : _ - with at most one {hash tag}' })
  @Length(1, 40, { message: 'must be 1-40 characters' })
  REDIS_PREFIX!: string;

  @IsString()
  TARGET!: string;

  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  KEY_HASH_SECRET!: string;

  /** 32 bytes as 64 hex characters (AES-256-GCM). */
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'must be 64 hex characters (32 bytes)' })
  ENCRYPTION_KEY!: string;

  @IsString()
  @MinLength(24, { message: 'must be at least 24 characters' })
  PLATFORM_ADMIN_TOKEN!: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters when set' })
  INTERNAL_TOKEN?: string;

  /**
   * Signs RPC between Latchkey's own processes (keys.*, orgs.*, and auth.verify). Only
   * Latchkey holds it: it opens every tenant's records, where INTERNAL_TOKEN opens auth.verify only.
   */
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  SERVICE_SECRET!: string;

  @Transform(toBool)
  @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE_TARGETS!: boolean;

  @Matches(/^\s*\d+(ms|s|m|h|d)\s*(,\s*\d+(ms|s|m|h|d)\s*)*$/, {
    message: 'must be a comma-separated list of durations such as 5s,5m,30m,2h',
  })
  WEBHOOK_RETRY_SCHEDULE!: string;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL!: LogLevel;

  /** How long an admin session lasts. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(24 * 90)
  SESSION_TTL_HOURS!: number;

  /** Failed logins per account (and per IP, times four) inside the window before a lock. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES!: number;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_LOCK_SECONDS!: number;

  /**
   * Trust X-Forwarded-For from these proxies (Fastify `trustProxy`): `false`, a
   * comma-separated list of proxy addresses/CIDRs (`10.0.0.0/8,127.0.0.1`, the form to
   * use behind a proxy), or `true`, which trusts every hop so any client can spoof its
   * address (the start warns).
   */
  @IsString()
  TRUST_PROXY!: string;

  /** Signups one client address may make inside LOGIN_LOCK_SECONDS before 429 (each email may sign up once anyway). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  SIGNUP_MAX_PER_ADDRESS!: number;

  /**
   * Invitation mails (new or resent) one organisation may send inside LOGIN_LOCK_SECONDS
   * before 429; each invited address gets at most LOGIN_MAX_FAILURES in that time anyway.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  INVITATIONS_MAX_PER_ORG!: number;

  /**
   * What rate limits and quotas do while Redis is unreachable: `open` lets checks
   * pass (as Kong's fault_tolerant) and marks the verdict `degraded`; `closed`
   * refuses them. Unknown keys always fail closed.
   */
  @IsIn(['open', 'closed'])
  AUTH_REDIS_FAIL_MODE!: 'open' | 'closed';

  /** How long auth-check trusts a cached key record without a change notice (the backstop when pub/sub drops one). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  KEY_CACHE_TTL_SECONDS!: number;

  /**
   * auth-check sends usage events as one job per flush: at this many events, or after this long.
   * Each job is one Postgres transaction in the usage worker, so the flush interval sets the
   * transactions per check below peak; it also bounds how stale last_used_at and the usage
   * counts are (docs/api-conventions.md#usage-logs-and-alerts: "a few seconds at most").
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  USAGE_BATCH_SIZE!: number;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(10_000)
  USAGE_FLUSH_MS!: number;

  /**
   * On a Redis Cluster, how many replicas must hold a usage batch (WAIT) before auth-check
   * lets go of it: replication is asynchronous, so a batch only its master took is lost
   * if that master fails. 0 for a cluster without replicas; a single Redis ignores it.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(5)
  USAGE_REPLICA_ACKS!: number;

  /** Request-log retention per environment (docs/api-conventions.md#usage-logs-and-alerts), in days. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  REQUEST_LOG_RETENTION_TEST_DAYS!: number;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  REQUEST_LOG_RETENTION_LIVE_DAYS!: number;

  /**
   * Days a relayed outbox row is kept before the usage worker prunes it: long enough to
   * look at what was relayed recently, since the event itself already left with the relay.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  OUTBOX_RETENTION_DAYS!: number;

  /** Per-attempt deadline of a webhook delivery. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  WEBHOOK_TIMEOUT_MS!: number;

  /** An endpoint whose deliveries all fail for this long is disabled and announced (tests compress it). */
  @Matches(/^\d+(ms|s|m|h|d)$/, { message: 'must be a duration such as 5d or 30s' })
  WEBHOOK_DISABLE_AFTER!: string;

  /** Webhook endpoints an organisation may have per environment (test, live); one more is refused with 409. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  WEBHOOK_MAX_ENDPOINTS!: number;

  /**
   * Days a finished (succeeded or failed) webhook delivery and its attempts are kept
   * after their last change. At least the 14 days `recover` reaches back, so every
   * failed delivery it may send again is still there.
   */
  @Transform(toInt)
  @IsInt()
  @Min(14)
  @Max(3650)
  WEBHOOK_DELIVERY_RETENTION_DAYS!: number;

  /**
   * Where mail goes (smtp:// or smtps://, credentials in the URL). Unset outside
   * production, mails are written to the log instead; production refuses to start without it.
   */
  @IsOptional()
  @Matches(/^smtps?:\/\/.+/, { message: 'must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /** The From of every mail. */
  @IsString()
  @MinLength(3)
  MAIL_FROM!: string;

  /** Where the console is served; the links in mails point here. */
  @Matches(/^https?:\/\/[^/]+(\/.*)?$/, { message: 'must be an http(s):// URL' })
  PUBLIC_BASE_URL!: string;

  /** How long an invitation can be accepted. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(90)
  INVITATION_TTL_DAYS!: number;
}

export type Env = Omit<EnvSchema, never>;

/** Values every environment may default to. */
export const DEFAULTS: Partial<Record<keyof EnvSchema, string>> = {
  NODE_ENV: 'development',
  PORT: '3000',
  HOST: '0.0.0.0',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/latchkey',
  DATABASE_POOL_MAX: '10',
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_PREFIX: 'lk',
  TARGET: 'all',
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false',
  WEBHOOK_RETRY_SCHEDULE: '5s,5m,30m,2h,5h,10h,14h,20h,24h',
  LOG_LEVEL: 'info',
  SESSION_TTL_HOURS: '12',
  LOGIN_MAX_FAILURES: '5',
  LOGIN_LOCK_SECONDS: '900',
  SIGNUP_MAX_PER_ADDRESS: '10',
  INVITATIONS_MAX_PER_ORG: '50',
  TRUST_PROXY: 'false',
  AUTH_REDIS_FAIL_MODE: 'open',
  KEY_CACHE_TTL_SECONDS: '10',
  USAGE_BATCH_SIZE: '500',
  USAGE_FLUSH_MS: '1000',
  USAGE_REPLICA_ACKS: '1',
  REQUEST_LOG_RETENTION_TEST_DAYS: '7',
  REQUEST_LOG_RETENTION_LIVE_DAYS: '90',
  OUTBOX_RETENTION_DAYS: '7',
  WEBHOOK_TIMEOUT_MS: '10000',
  WEBHOOK_DISABLE_AFTER: '5d',
  WEBHOOK_MAX_ENDPOINTS: '50',
  WEBHOOK_DELIVERY_RETENTION_DAYS: '30',
  MAIL_FROM: 'Latchkey <no-reply@latchkey.local>',
  PUBLIC_BASE_URL: 'http://localhost:3000',
  INVITATION_TTL_DAYS: '7',
};

/**
 * Secrets may default only outside production, so a laptop runs with no set-up
 * while a production start without them stops with a clear message.
 */
export const DEVELOPMENT_SECRETS: Partial<Record<keyof EnvSchema, string>> = {
  KEY_HASH_SECRET: 'dev-only-key-hash-secret-change-me-in-production',
  ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
  PLATFORM_ADMIN_TOKEN: 'dev-only-platform-admin-token',
  SERVICE_SECRET: 'dev-only-service-secret-change-me-in-production',
};
