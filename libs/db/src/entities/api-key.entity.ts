import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

import { Organization } from './organization.entity';

export const ApiKeyEnvironment = { Test: 'test', Live: 'live' } as const;
export type ApiKeyEnvironment = (typeof ApiKeyEnvironment)[keyof typeof ApiKeyEnvironment];

export const ApiKeyStatus = {
  Active: 'active',
  Disabled: 'disabled',
  Expired: 'expired',
  Revoked: 'revoked',
} as const;
export type ApiKeyStatus = (typeof ApiKeyStatus)[keyof typeof ApiKeyStatus];

export interface ApiKeyRestrictions {
  /** IPv4/IPv6 CIDRs; empty = any address. */
  ip_allowlist: string[];
  /** Origin patterns such as `https://*.example.com`; empty = any referrer. */
  referrers: string[];
  /** Method + path patterns such as `GET /v1/payments/*`; empty = any endpoint. */
  endpoints: { method: string; path: string }[];
}

export interface ApiKeyRateLimit {
  limit: number;
  window_seconds: number;
}

export const QuotaPeriod = { Day: 'day', Month: 'month', Total: 'total' } as const;
export type QuotaPeriod = (typeof QuotaPeriod)[keyof typeof QuotaPeriod];

export interface ApiKeyQuota {
  limit: number;
  period: QuotaPeriod;
}

export const EMPTY_RESTRICTIONS: ApiKeyRestrictions = { ip_allowlist: [], referrers: [], endpoints: [] };

/**
 * An API key. The secret itself is never stored: only its HMAC-SHA-256 under
 * KEY_HASH_SECRET, plus the prefix and last four characters for display. A signing
 * key's secret is kept sealed (AES-256-GCM) because the server must recompute
 * signatures with it. Status is derived (see `apiKeyStatus`), so expiry needs no cron.
 */
@Entity({ tableName: 'api_keys' })
@Index({ properties: ['organization', 'id'] })
export class ApiKey {
  [OptionalProps]?:
    | 'description'
    | 'previousSecretHash'
    | 'previousSecretExpiresAt'
    | 'publicKey'
    | 'signingSecretSealed'
    | 'previousSigningSecretSealed'
    | 'ownerId'
    | 'permissions'
    | 'restrictions'
    | 'rateLimit'
    | 'quota'
    | 'metadata'
    | 'expiresAt'
    | 'lastUsedAt'
    | 'disabledAt'
    | 'revokedAt'
    | 'createdAt'
    | 'secretRotatedAt'
    | 'updatedAt'
    | 'signing';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.ApiKey);

  @ManyToOne(() => Organization, { deleteRule: 'cascade' })
  organization!: Organization;

  @Enum({ items: () => Object.values(ApiKeyEnvironment), type: 'string' })
  environment!: ApiKeyEnvironment;

  @Property({ type: 'string', length: 100 })
  name!: string;

  @Property({ type: 'string', length: 500, nullable: true })
  description: string | null = null;

  /** `sk_live_`: shown, searchable. */
  @Property({ type: 'string', length: 8 })
  prefix!: string;

  @Property({ type: 'string', length: 4 })
  last4!: string;

  @Property({ type: 'string', length: 64, unique: true, hidden: true })
  secretHash!: string;

  /** After a roll, the old secret keeps working until `previousSecretExpiresAt`. */
  @Property({ type: 'string', length: 64, nullable: true, hidden: true })
  previousSecretHash: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  previousSecretExpiresAt: Date | null = null;

  /** `pk_{env}_…` of a signing key: it identifies the key in requests; the secret signs. */
  @Property({ type: 'string', length: 46, nullable: true, unique: true })
  publicKey: string | null = null;

  @Property({ type: 'text', nullable: true, hidden: true })
  signingSecretSealed: string | null = null;

  @Property({ type: 'text', nullable: true, hidden: true })
  previousSigningSecretSealed: string | null = null;

  /** The user who created the key (developers manage only their own). */
  @Property({ type: 'string' })
  createdBy!: string;

  /** The operator's own id for the customer or service holding the key. */
  @Property({ type: 'string', length: 200, nullable: true })
  ownerId: string | null = null;

  @Property({ type: 'array', columnType: 'text[]' })
  permissions: string[] = [];

  @Property({ type: 'json' })
  restrictions: ApiKeyRestrictions = { ...EMPTY_RESTRICTIONS };

  @Property({ type: 'json', nullable: true })
  rateLimit: ApiKeyRateLimit | null = null;

  @Property({ type: 'json', nullable: true })
  quota: ApiKeyQuota | null = null;

  @Property({ type: 'json' })
  metadata: Record<string, unknown> = {};

  @Property({ type: 'datetime', nullable: true })
  expiresAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  lastUsedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  disabledAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  /**
   * When the current secret was issued: at creation, then at each roll. The rotation
   * policy (`api_key.rotation_due`) counts from here, so a rolled key is due again one
   * policy period after its roll, not after its creation.
   */
  @Property({ type: 'datetime' })
  secretRotatedAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  get signing(): boolean {
    return this.publicKey !== null;
  }
}

/** Revoked beats disabled beats expired: the strongest reason a key does not pass. */
export function apiKeyStatus(key: Pick<ApiKey, 'revokedAt' | 'disabledAt' | 'expiresAt'>, now = new Date()): ApiKeyStatus {
  if (key.revokedAt) return ApiKeyStatus.Revoked;
  if (key.disabledAt) return ApiKeyStatus.Disabled;
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return ApiKeyStatus.Expired;
  return ApiKeyStatus.Active;
}
