import { EntityManager } from '@mikro-orm/postgresql';

import { KeyRecord } from '@latchkey/contracts';

import { ApiKeyEnvironment, ApiKeyQuota, ApiKeyRateLimit, ApiKeyRestrictions, apiKeyStatus } from '../entities';

/**
 * The one way a presented key is looked up and described for a check. key-issuer
 * answers `keys.lookup` with it and auth-check reads Postgres directly with it when
 * the key service is away, so both paths give the same verdict. Revoked, disabled
 * and expired keys are found too (auth-check must say why); only a deleted key is gone.
 *
 * Each lookup is one hand-written select rather than `em.findOne(ApiKey)`: it runs on
 * every cache miss of every auth-check instance (all of them at once after a deploy),
 * and MikroORM's query building and entity hydration cost several times the query
 * itself (docs/performance.md#results-log). Nothing is written, so there is no
 * identity map to keep.
 */

/** The api_keys columns a KeyRecord is made of, as MikroORM's connection returns them (json parsed, timestamps as text). */
interface KeyRow {
  id: string;
  name: string;
  owner_id: string | null;
  organization_id: string;
  environment: ApiKeyEnvironment;
  expires_at: string | null;
  disabled_at: string | null;
  revoked_at: string | null;
  permissions: string[];
  restrictions: Partial<ApiKeyRestrictions>;
  rate_limit: ApiKeyRateLimit | null;
  quota: ApiKeyQuota | null;
  metadata: Record<string, unknown>;
  public_key: string | null;
  signing_secret_sealed: string | null;
  previous_signing_secret_sealed: string | null;
  previous_secret_expires_at: string | null;
}

/** Field by field on purpose: a column added to api_keys reaches the wire only when listed here. */
const KEY_COLUMNS = [
  'id',
  'name',
  'owner_id',
  'organization_id',
  'environment',
  'expires_at',
  'disabled_at',
  'revoked_at',
  'permissions',
  'restrictions',
  'rate_limit',
  'quota',
  'metadata',
  'public_key',
  'signing_secret_sealed',
  'previous_signing_secret_sealed',
  'previous_secret_expires_at',
].join(', ');

/** By the HMAC of a presented secret: the current one, or the previous one while its grace lasts. */
export async function findKeyRecordBySecretHash(em: EntityManager, secretHash: string, now = new Date()): Promise<KeyRecord | null> {
  const [row] = await em.getConnection().execute<(KeyRow & { matched_current: boolean })[]>(
    `select ${KEY_COLUMNS}, secret_hash = ? as matched_current from api_keys
      where secret_hash = ? or (previous_secret_hash = ? and previous_secret_expires_at > ?) limit 1`,
    [secretHash, secretHash, secretHash, now],
  );
  if (!row) return null;
  return { ...toKeyRecord(em, row, now), matched: row.matched_current ? 'current' : 'previous' };
}

/** By a signing key's public identifier (`pk_{env}_…`). */
export async function findKeyRecordByPublicKey(em: EntityManager, publicKey: string, now = new Date()): Promise<KeyRecord | null> {
  const [row] = await em.getConnection().execute<KeyRow[]>(`select ${KEY_COLUMNS} from api_keys where public_key = ?`, [publicKey]);
  return row ? toKeyRecord(em, row, now) : null;
}

export async function findKeyRecordById(em: EntityManager, keyId: string, now = new Date()): Promise<KeyRecord | null> {
  const [row] = await em.getConnection().execute<KeyRow[]>(`select ${KEY_COLUMNS} from api_keys where id = ?`, [keyId]);
  return row ? toKeyRecord(em, row, now) : null;
}

function toKeyRecord(em: EntityManager, row: KeyRow, now: Date): KeyRecord {
  // Postgres' text form of a timestamp is not ISO 8601: the platform reads it as the entities do.
  const platform = em.getPlatform();
  const dateOf = (text: string | null) => (text === null ? null : platform.parseDate(text));
  const expiresAt = dateOf(row.expires_at);
  const disabledAt = dateOf(row.disabled_at);
  const revokedAt = dateOf(row.revoked_at);
  const previousSecretExpiresAt = dateOf(row.previous_secret_expires_at);
  const graceOpen = previousSecretExpiresAt !== null && previousSecretExpiresAt.getTime() > now.getTime();
  return {
    id: row.id,
    name: row.name,
    owner_id: row.owner_id,
    org_id: row.organization_id,
    environment: row.environment,
    status: apiKeyStatus({ revokedAt, disabledAt, expiresAt }, now),
    expires_at: iso(expiresAt),
    disabled_at: iso(disabledAt),
    revoked_at: iso(revokedAt),
    permissions: row.permissions,
    restrictions: {
      ip_allowlist: row.restrictions.ip_allowlist ?? [],
      referrers: row.restrictions.referrers ?? [],
      endpoints: (row.restrictions.endpoints ?? []).map((endpoint) => ({ method: endpoint.method, path: endpoint.path })),
    },
    rate_limit: row.rate_limit ? { limit: row.rate_limit.limit, window_seconds: row.rate_limit.window_seconds } : null,
    quota: row.quota ? { limit: row.quota.limit, period: row.quota.period } : null,
    metadata: row.metadata,
    signing: row.public_key !== null,
    public_key: row.public_key,
    signing_secret_sealed: row.signing_secret_sealed,
    // Once the grace is over the old signing secret must not sign anything: do not ship it.
    previous_signing_secret_sealed: graceOpen ? row.previous_signing_secret_sealed : null,
    previous_secret_expires_at: iso(previousSecretExpiresAt),
  };
}

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}
