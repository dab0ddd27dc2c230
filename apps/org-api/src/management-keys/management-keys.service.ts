import { LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { ROLE_RULES, UserPrincipal } from '@latchkey/access';
import { AuditActor, AuditService } from '@latchkey/audit';
import { AppConfig } from '@latchkey/config';
import { Page, PageRequest, Role, ROLES } from '@latchkey/contracts';
import { generateManagementKey, hmacSha256Hex } from '@latchkey/crypto';
import { findPage, ManagementKey, Membership, Organization } from '@latchkey/db';
import { IdPrefix, isIdOf } from '@latchkey/ids';
import { AppError, canonicalIpRange } from '@latchkey/platform';

import { CreateManagementKeyDto, DEFAULT_MANAGEMENT_KEY_TTL_DAYS } from './dto/create-management-key.dto';
import { ManagementKeyResponseDto, ManagementKeyWithTokenResponseDto } from './dto/management-key-response.dto';

const DAY_MS = 86_400_000;

/** Roles by strength: a person never hands out more than their own. */
function rank(role: Role): number {
  return ROLES.indexOf(role);
}

/**
 * Management keys of the session's organisation (docs/api-conventions.md#management-keys).
 * Only people call this service: its routes refuse management keys in the guard.
 */
@Injectable()
export class ManagementKeysService {
  private readonly hashSecret: string;

  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    config: AppConfig,
  ) {
    this.hashSecret = config.get('KEY_HASH_SECRET');
  }

  async create(principal: UserPrincipal, input: CreateManagementKeyDto, actor: AuditActor): Promise<ManagementKeyWithTokenResponseDto> {
    if (rank(input.role) < rank(principal.role)) {
      throw new AppError('INSUFFICIENT_ROLE', `A ${principal.role} cannot create a management key with the role ${input.role}.`);
    }
    const now = new Date();
    const expiresAt =
      input.expires_at === undefined
        ? new Date(now.getTime() + DEFAULT_MANAGEMENT_KEY_TTL_DAYS * DAY_MS)
        : input.expires_at === null
          ? null
          : new Date(input.expires_at);
    const ipAllowlist = [...new Set((input.ip_allowlist ?? []).map((entry) => canonicalIpRange(entry) as string))];
    const token = generateManagementKey();
    const view = await this.em.transactional(async (em) => {
      await this.assertStillEntitled(em, principal, input.role);
      const key = em.create(ManagementKey, {
        organization: em.getReference(Organization, principal.orgId),
        name: input.name,
        role: input.role,
        environment: input.environment ?? null,
        tokenHash: hmacSha256Hex(this.hashSecret, token),
        last4: token.slice(-4),
        ipAllowlist,
        createdBy: principal.userId,
        createdAt: now,
        expiresAt,
      });
      const created = ManagementKeyResponseDto.from(key, now);
      this.audit.record(em, {
        orgId: principal.orgId,
        actor,
        action: 'management_key.created',
        target: { type: 'management_key', id: key.id },
        after: created,
      });
      await em.flush();
      return created;
    });
    return { ...view, token };
  }

  async list(principal: UserPrincipal, page: PageRequest): Promise<Page<ManagementKeyResponseDto>> {
    const keys = await findPage(this.em, ManagementKey, { organization: principal.orgId }, page);
    const now = new Date();
    return keys.map((key) => ManagementKeyResponseDto.from(key, now));
  }

  async get(principal: UserPrincipal, keyId: string): Promise<ManagementKeyResponseDto> {
    return ManagementKeyResponseDto.from(await this.find(this.em, principal.orgId, keyId));
  }

  /**
   * Revokes at once: the guard reads the row on every request, so the next use is a 401.
   * Only an owner revokes an owner-role key, as only an owner touches an owner. Revoking
   * a revoked key answers it as it is.
   */
  async revoke(principal: UserPrincipal, keyId: string, actor: AuditActor): Promise<ManagementKeyResponseDto> {
    return this.em.transactional(async (em) => {
      const key = await this.find(em, principal.orgId, keyId, true);
      if (rank(key.role) < rank(principal.role)) {
        throw new AppError('INSUFFICIENT_ROLE', `A ${principal.role} cannot revoke a management key with the role ${key.role}.`);
      }
      if (key.revokedAt) return ManagementKeyResponseDto.from(key);
      const before = ManagementKeyResponseDto.from(key);
      key.revokedAt = new Date();
      const after = ManagementKeyResponseDto.from(key);
      this.audit.record(em, {
        orgId: principal.orgId,
        actor,
        action: 'management_key.revoked',
        target: { type: 'management_key', id: key.id },
        before,
        after,
      });
      await em.flush();
      return after;
    });
  }

  /**
   * Re-reads the creator's role under the organisation lock that member changes take:
   * a removal or demotion committed since the guard ran would otherwise leave behind a
   * key it was meant to revoke (members.service.ts revokes a creator's keys then).
   */
  private async assertStillEntitled(em: EntityManager, principal: UserPrincipal, role: Role): Promise<void> {
    await em.findOne(Organization, { id: principal.orgId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const membership = await em.findOne(Membership, { organization: principal.orgId, user: principal.userId });
    if (!membership) throw AppError.unauthenticated('Invalid or expired session.');
    const allowed: readonly Role[] = ROLE_RULES.orgAdmins;
    if (!allowed.includes(membership.role) || rank(role) < rank(membership.role)) {
      throw new AppError('INSUFFICIENT_ROLE', `A ${membership.role} cannot create a management key with the role ${role}.`);
    }
  }

  /** Another organisation's key, or an id of another kind, is a 404 like a missing one. */
  private async find(em: EntityManager, orgId: string, keyId: string, lock = false): Promise<ManagementKey> {
    const key = isIdOf(IdPrefix.ManagementKey, keyId)
      ? await em.findOne(ManagementKey, { id: keyId, organization: orgId }, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {})
      : null;
    if (!key) throw AppError.notFound('Management key');
    return key;
  }
}
