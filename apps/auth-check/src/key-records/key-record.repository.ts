import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { KeyRecord } from '@latchkey/contracts';
import { ApiKey, apiKeyStatus } from '@latchkey/db';

/**
 * auth-check's direct read of a key, used only when the key service does not
 * answer. Same query shape as key-issuer's `keys.lookup` (kept in step on purpose:
 * the apps share the schema, not code), so both paths give the same verdict.
 */
@Injectable()
export class KeyRecordRepository {
  constructor(private readonly em: EntityManager) {}

  /** By the HMAC of a presented secret: the current one, or the previous one while its grace lasts. */
  async findBySecretHash(secretHash: string, now = new Date()): Promise<KeyRecord | null> {
    // A fork per read: RPC handlers have no request context, and a check must never see another's identity map.
    const key = await this.em.fork().findOne(ApiKey, {
      $or: [{ secretHash }, { previousSecretHash: secretHash, previousSecretExpiresAt: { $gt: now } }],
    });
    if (!key) return null;
    return { ...toKeyRecord(key, now), matched: key.secretHash === secretHash ? 'current' : 'previous' };
  }

  async findByPublicKey(publicKey: string, now = new Date()): Promise<KeyRecord | null> {
    const key = await this.em.fork().findOne(ApiKey, { publicKey });
    return key ? toKeyRecord(key, now) : null;
  }
}

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

function toKeyRecord(key: ApiKey, now: Date): KeyRecord {
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
    previous_signing_secret_sealed: graceOpen ? key.previousSigningSecretSealed : null,
    previous_secret_expires_at: iso(key.previousSecretExpiresAt),
  };
}
