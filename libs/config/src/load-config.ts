import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';

import { DEFAULTS, DEVELOPMENT_SECRETS, Env, EnvSchema } from './env.schema';
import { parseTargets, ServiceTarget } from './service-target';

export interface AppConfigValues extends Omit<Env, 'DATABASE_DIRECT_URL'> {
  /** Always set: DATABASE_URL when the variable is unset. */
  DATABASE_DIRECT_URL: string;
  targets: ServiceTarget[];
  webhookRetryScheduleMs: number[];
  webhookDisableAfterMs: number;
  /**
   * INTERNAL_TOKEN's values: one, or two while it is rotated (callers move to the new
   * one, then the old one is dropped, without downtime). Empty: no token required.
   */
  internalTokens: string[];
  /** SERVICE_SECRET's values, the same way: RPC is signed with the first, and either is accepted. */
  serviceSecrets: string[];
}

/** At most two values at once: the current secret and the one being rotated in or out. */
const MAX_ROTATING_VALUES = 2;
const MIN_INTERNAL_TOKEN_LENGTH = 16;
const MIN_SERVICE_SECRET_LENGTH = 32;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment variables:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Never echoed in a ConfigError: secrets, and URLs that may carry a password. */
const SECRET_KEYS = new Set<string>([
  'KEY_HASH_SECRET',
  'ENCRYPTION_KEY',
  'PLATFORM_ADMIN_TOKEN',
  'INTERNAL_TOKEN',
  'SERVICE_SECRET',
  'SMTP_URL',
  'REDIS_URL',
  'DATABASE_URL',
  'DATABASE_DIRECT_URL',
]);

/**
 * Reads and validates the environment once. Throws a ConfigError naming every bad
 * variable (secret values are never echoed back).
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): AppConfigValues {
  const raw: Record<string, string | undefined> = {};
  const keys = Object.keys(new EnvSchemaKeys());
  for (const key of keys) {
    const value = source[key];
    raw[key] = value === undefined || value === '' ? undefined : value;
  }
  for (const [key, value] of Object.entries(DEFAULTS)) {
    raw[key] ??= value;
  }
  const production = raw.NODE_ENV === 'production';
  const problems: string[] = [];
  const missing = new Set<string>();
  for (const [key, value] of Object.entries(DEVELOPMENT_SECRETS)) {
    if (raw[key] !== undefined) continue;
    if (production) {
      missing.add(key);
      problems.push(`${key} is required when NODE_ENV=production`);
    } else {
      raw[key] = value;
    }
  }

  // Without it POST /v1/verify and GET /v1/check answer anyone who can reach them.
  if (production && raw.INTERNAL_TOKEN === undefined) {
    missing.add('INTERNAL_TOKEN');
    problems.push('INTERNAL_TOKEN is required when NODE_ENV=production (it guards POST /v1/verify and GET /v1/check)');
  }
  const internalTokens = rotatingSecrets('INTERNAL_TOKEN', raw.INTERNAL_TOKEN, MIN_INTERNAL_TOKEN_LENGTH, missing, problems);
  const serviceSecrets = rotatingSecrets('SERVICE_SECRET', raw.SERVICE_SECRET, MIN_SERVICE_SECRET_LENGTH, missing, problems);

  // Without SMTP a production deployment would silently never send verification or invitation mail.
  if (production && raw.SMTP_URL === undefined) problems.push('SMTP_URL is required when NODE_ENV=production (mail cannot be sent)');

  const env = plainToInstance(EnvSchema, raw);
  // A missing secret is already reported above; its validation errors would only repeat it.
  const invalid = validateSync(env, { skipMissingProperties: false }).filter((error) => !missing.has(error.property));
  problems.push(...flatten(invalid));

  const targets = parseTargets(env.TARGET ?? '');
  if (typeof targets === 'string') problems.push(`TARGET: ${targets}`);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...env,
    DATABASE_DIRECT_URL: env.DATABASE_DIRECT_URL ?? env.DATABASE_URL,
    targets: targets as ServiceTarget[],
    webhookRetryScheduleMs: parseDurations(env.WEBHOOK_RETRY_SCHEDULE),
    webhookDisableAfterMs: parseDurations(env.WEBHOOK_DISABLE_AFTER)[0],
    internalTokens,
    serviceSecrets,
  };
}

/**
 * A secret that may hold two comma-separated values while it is rotated. A bad one is
 * reported here, with the value hidden, so the schema's whole-string check does not repeat it.
 */
function rotatingSecrets(name: string, value: string | undefined, minLength: number, missing: Set<string>, problems: string[]): string[] {
  const values = value === undefined ? [] : value.split(',').map((item) => item.trim());
  if (values.length > MAX_ROTATING_VALUES || values.some((item) => item.length < minLength)) {
    missing.add(name);
    problems.push(`${name}=<hidden>: must be one value, or two separated by a comma while rotating, each at least ${minLength} characters`);
  }
  return values;
}

function flatten(errors: ValidationError[]): string[] {
  return errors.map((error) => {
    const shown = SECRET_KEYS.has(error.property) ? '<hidden>' : JSON.stringify(error.value);
    const reasons = Object.values(error.constraints ?? {}).join('; ');
    return `${error.property}=${shown}: ${reasons}`;
  });
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDurations(list: string): number[] {
  return list.split(',').map((item) => {
    const match = /^(\d+)(ms|s|m|h|d)$/.exec(item.trim());
    if (!match) throw new ConfigError([`bad duration ${item}`]);
    return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  });
}

/** Lists the schema's keys (class-validator metadata has them, but this stays explicit and typed). */
class EnvSchemaKeys implements Record<keyof EnvSchema, true> {
  NODE_ENV = true as const;
  PORT = true as const;
  HOST = true as const;
  DATABASE_URL = true as const;
  DATABASE_DIRECT_URL = true as const;
  DATABASE_POOL_MAX = true as const;
  REDIS_URL = true as const;
  REDIS_CLUSTER_NODES = true as const;
  REDIS_PREFIX = true as const;
  TARGET = true as const;
  KEY_HASH_SECRET = true as const;
  ENCRYPTION_KEY = true as const;
  PLATFORM_ADMIN_TOKEN = true as const;
  INTERNAL_TOKEN = true as const;
  SERVICE_SECRET = true as const;
  WEBHOOK_ALLOW_PRIVATE_TARGETS = true as const;
  WEBHOOK_RETRY_SCHEDULE = true as const;
  LOG_LEVEL = true as const;
  SESSION_TTL_HOURS = true as const;
  LOGIN_MAX_FAILURES = true as const;
  LOGIN_LOCK_SECONDS = true as const;
  SIGNUP_MAX_PER_ADDRESS = true as const;
  INVITATIONS_MAX_PER_ORG = true as const;
  TRUST_PROXY = true as const;
  AUTH_REDIS_FAIL_MODE = true as const;
  KEY_CACHE_TTL_SECONDS = true as const;
  USAGE_BATCH_SIZE = true as const;
  USAGE_FLUSH_MS = true as const;
  USAGE_REPLICA_ACKS = true as const;
  REQUEST_LOG_RETENTION_TEST_DAYS = true as const;
  REQUEST_LOG_RETENTION_LIVE_DAYS = true as const;
  OUTBOX_RETENTION_DAYS = true as const;
  WEBHOOK_TIMEOUT_MS = true as const;
  WEBHOOK_DISABLE_AFTER = true as const;
  WEBHOOK_MAX_ENDPOINTS = true as const;
  WEBHOOK_DELIVERY_RETENTION_DAYS = true as const;
  SMTP_URL = true as const;
  MAIL_FROM = true as const;
  PUBLIC_BASE_URL = true as const;
  INVITATION_TTL_DAYS = true as const;
}
