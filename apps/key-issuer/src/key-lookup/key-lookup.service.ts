import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { KeyRecord } from '@latchkey/contracts';
import { ApiKey, apiKeyStatus } from '@latchkey/db';
import { AppError } from '@latchkey/platform';

/**
 * Finds keys for auth-check (its cache misses) and turns them into KeyRecords.
 * Read-only. Revoked, disabled and expired keys are found too: auth-check must
 * answer REVOKED or EXPIRED, not NOT_FOUND. Only a deleted key is gone.
 */
@Injectable()
export class KeyLookupService {
  constructor(private readonly em: EntityManager) {}

  /** By the HMAC of a presented secret: the current one, or the previous one while its grace lasts. */
  async bySecretHash(secretHash: string, now = new Date()): Promise<KeyRecord> {
    const key = await this.em.findOne(ApiKey, {
      $or: [{ secretHash }, { previousSecretHash: secretHash, previousSecretExpiresAt: { $gt: now } }],
    });
    if (!key) throw AppError.notFound('API key');
    return { ...toKeyRecord(key, now), matched: key.secretHash === secretHash ? 'current' : 'previous' };
  }

  /** By a signing key's public identifier (`pk_{env}_…`). */
  async byPublicKey(publicKey: string, now = new Date()): Promise<KeyRecord> {
    const key = await this.em.findOne(ApiKey, { publicKey });
    if (!key) throw AppError.notFound('API key');
    return toKeyRecord(key, now);
  }

  async byId(keyId: string, now = new Date()): Promise<KeyRecord> {
    const key = await this.em.findOne(ApiKey, { id: keyId });
    if (!key) throw AppError.notFound('API key');
    return toKeyRecord(key, now);
  }
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
