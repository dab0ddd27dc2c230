import { EntityManager } from '@mikro-orm/core';

import { KeyRecord } from '@latchkey/contracts';

import { ApiKey, apiKeyStatus } from '../entities';

/**
 * The one way a presented key is looked up and described for a check. key-issuer
 * answers `keys.lookup` with it and auth-check reads Postgres directly with it when
 * the key service is away, so both paths give the same verdict. Revoked, disabled
 * and expired keys are found too (auth-check must say why); only a deleted key is gone.
 */

/** By the HMAC of a presented secret: the current one, or the previous one while its grace lasts. */
export async function findKeyRecordBySecretHash(em: EntityManager, secretHash: string, now = new Date()): Promise<KeyRecord | null> {
  const key = await em.findOne(ApiKey, {
    $or: [{ secretHash }, { previousSecretHash: secretHash, previousSecretExpiresAt: { $gt: now } }],
  });
  if (!key) return null;
  return { ...toKeyRecord(key, now), matched: key.secretHash === secretHash ? 'current' : 'previous' };
}

/** By a signing key's public identifier (`pk_{env}_…`). */
export async function findKeyRecordByPublicKey(em: EntityManager, publicKey: string, now = new Date()): Promise<KeyRecord | null> {
  const key = await em.findOne(ApiKey, { publicKey });
  return key ? toKeyRecord(key, now) : null;
}

export async function findKeyRecordById(em: EntityManager, keyId: string, now = new Date()): Promise<KeyRecord | null> {
  const key = await em.findOne(ApiKey, { id: keyId });
  return key ? toKeyRecord(key, now) : null;
}

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

/** Field by field on purpose: a column added to ApiKey reaches the wire only when listed here. */
export function toKeyRecord(key: ApiKey, now = new Date()): KeyRecord {
  const graceOpen = key.previousSecretExpiresAt !== null && key.previousSecretExpiresAt.getTime() > now.getTime();
  return {
    id: key.id,
    org_id: key.organization.id,
    environment: key.environment,
    status: apiKeyStatus(key, now),
    expires_at: iso(key.expiresAt),
    disabled_at: iso(key.disabledAt),
    revoked_at: iso(key.revokedAt),
    permissions: [...key.permissions],
    restrictions: {
      ip_allowlist: [...(key.restrictions.ip_allowlist ?? [])],
      referrers: [...(key.restrictions.referrers ?? [])],
      endpoints: (key.restrictions.endpoints ?? []).map((endpoint) => ({ method: endpoint.method, path: endpoint.path })),
    },
    rate_limit: key.rateLimit ? { limit: key.rateLimit.limit, window_seconds: key.rateLimit.window_seconds } : null,
    quota: key.quota ? { limit: key.quota.limit, period: key.quota.period } : null,
    metadata: key.metadata,
    signing: key.signing,
    public_key: key.publicKey,
    signing_secret_sealed: key.signingSecretSealed,
    // Once the grace is over the old signing secret must not sign anything: do not ship it.
    previous_signing_secret_sealed: graceOpen ? key.previousSigningSecretSealed : null,
    previous_secret_expires_at: iso(key.previousSecretExpiresAt),
  };
}
