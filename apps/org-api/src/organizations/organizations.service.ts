import { isDeepStrictEqual } from 'node:util';

import { LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { AuditActor, AuditService } from '@latchkey/audit';
import { EventType, Page, PageRequest, Role } from '@latchkey/contracts';
import { findPage, LiveAccessStatus, Membership, Organization, OrganizationSettings, reminderEmailsEnabled } from '@latchkey/db';
import { IdPrefix, isIdOf } from '@latchkey/ids';
import { OutboxService } from '@latchkey/outbox';
import { AppError } from '@latchkey/platform';

/** The caller's membership of one organisation, with the organisation loaded. */
export interface OrganizationMembership {
  organization: Organization;
  role: Role;
}

/** Fields of the settings a caller may change; absent ones keep their value. */
export type OrganizationSettingsChanges = Partial<OrganizationSettings>;

/**
 * Organisations: reading them, renaming them, their settings and the live-access
 * life cycle (not_requested → requested → approved). One service behind the REST
 * routes of members, the platform operator's routes and the Redis transport.
 */
@Injectable()
export class OrganizationsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
  ) {}

  /** Every organisation the user belongs to, newest membership first. */
  async listForUser(userId: string, page: PageRequest): Promise<Page<OrganizationMembership>> {
    const memberships = await findPage(this.em, Membership, { user: userId }, page);
    await this.em.populate(memberships.items, ['organization']);
    return memberships.map((membership) => ({ organization: membership.organization, role: membership.role }));
  }

  /** Organisations by live-access state, for the platform operator. */
  listByLiveAccess(liveAccess: LiveAccessStatus | undefined, page: PageRequest): Promise<Page<Organization>> {
    return findPage(this.em, Organization, liveAccess ? { liveAccess } : {}, page);
  }

  /** One organisation; an unknown or malformed id is NOT_FOUND. */
  async findById(orgId: string): Promise<Organization> {
    const org = isIdOf(IdPrefix.Organization, orgId) ? await this.em.findOne(Organization, { id: orgId }) : null;
    if (!org) throw AppError.notFound('Organization');
    return org;
  }

  /** The user's role in the organisation, or null when they are not a member; an unknown organisation is NOT_FOUND. */
  async findMemberRole(orgId: string, userId: string): Promise<Role | null> {
    await this.findById(orgId);
    const membership = isIdOf(IdPrefix.User, userId) ? await this.em.findOne(Membership, { organization: orgId, user: userId }) : null;
    return membership?.role ?? null;
  }

  async rename(orgId: string, name: string, actor: AuditActor): Promise<Organization> {
    return this.changeLocked(orgId, (em, org) => {
      // An unchanged name is not a change: no audit row, no updated_at bump.
      if (org.name === name) return;
      const before = { name: org.name };
      org.name = name;
      this.audit.record(em, { orgId, actor, action: 'org.updated', target: { type: 'org', id: orgId }, before, after: { name } });
    });
  }

  async updateSettings(orgId: string, changes: OrganizationSettingsChanges, actor: AuditActor): Promise<Organization> {
    return this.changeLocked(orgId, (em, org) => {
      const before = { ...org.settings };
      const after: OrganizationSettings = {
        rotation_policy_days: changes.rotation_policy_days ?? before.rotation_policy_days,
        default_expiry_days: changes.default_expiry_days !== undefined ? changes.default_expiry_days : before.default_expiry_days,
        // Kept sorted so clients can show them as they are.
        allowed_expiry_presets: changes.allowed_expiry_presets
          ? [...changes.allowed_expiry_presets].sort((a, b) => a - b)
          : before.allowed_expiry_presets,
        // null is a value ("the deployment's default"); left out keeps the setting (absent in old rows = null).
        request_log_retention_test_days:
          changes.request_log_retention_test_days !== undefined
            ? changes.request_log_retention_test_days
            : (before.request_log_retention_test_days ?? null),
        request_log_retention_live_days:
          changes.request_log_retention_live_days !== undefined
            ? changes.request_log_retention_live_days
            : (before.request_log_retention_live_days ?? null),
        reminder_emails_enabled: changes.reminder_emails_enabled ?? reminderEmailsEnabled(before),
      };
      // jsonb hands keys back in its own order: compare values, not text.
      if (isDeepStrictEqual(before, after)) return;
      org.settings = after;
      this.audit.record(em, { orgId, actor, action: 'org.settings_updated', target: { type: 'org', id: orgId }, before, after });
    });
  }

  /**
   * The org asks the platform operator for live mode. Asking again while the
   * request is pending changes nothing (a double click is not an error).
   */
  async requestLiveAccess(orgId: string, actor: AuditActor): Promise<Organization> {
    return this.changeLocked(orgId, (em, org) => {
      switch (org.liveAccess) {
        case LiveAccessStatus.Approved:
          throw new AppError('LIVE_ACCESS_ALREADY_APPROVED', 'Live access is already approved for this organisation.');
        case LiveAccessStatus.Requested:
          return;
        case LiveAccessStatus.NotRequested:
          org.liveAccess = LiveAccessStatus.Requested;
          org.liveAccessRequestedAt = new Date();
          this.audit.record(em, {
            orgId,
            actor,
            action: 'org.live_access_requested',
            target: { type: 'org', id: orgId },
            before: { live_access: LiveAccessStatus.NotRequested },
            after: { live_access: LiveAccessStatus.Requested },
          });
          return;
      }
    });
  }

  /**
   * The platform operator turns live mode on. Like Stripe activating an account,
   * approval answers the organisation's own request: the request is the tenant's
   * consent to take real traffic (and where it states it is ready), so an
   * organisation that never asked cannot be switched to live on its behalf
   * (409 LIVE_ACCESS_NOT_REQUESTED; the operator asks the tenant to request it).
   * Approving an approved organisation again is a no-op answered with its state.
   */
  async approveLiveAccess(orgId: string, actor: AuditActor): Promise<Organization> {
    return this.changeLocked(orgId, (em, org) => {
      switch (org.liveAccess) {
        case LiveAccessStatus.Approved:
          return;
        case LiveAccessStatus.NotRequested:
          throw new AppError('LIVE_ACCESS_NOT_REQUESTED', 'This organisation has not requested live access.');
        case LiveAccessStatus.Requested:
          org.liveAccess = LiveAccessStatus.Approved;
          org.liveAccessApprovedAt = new Date();
          this.audit.record(em, {
            orgId,
            actor,
            action: 'org.live_access_approved',
            target: { type: 'org', id: orgId },
            before: { live_access: LiveAccessStatus.Requested },
            after: { live_access: LiveAccessStatus.Approved },
          });
          this.outbox.add(em, {
            orgId,
            type: EventType.OrgLiveAccessApproved,
            data: { org_id: orgId, live_access: LiveAccessStatus.Approved, approved_at: org.liveAccessApprovedAt.toISOString() },
          });
          return;
      }
    });
  }

  /**
   * Runs `change` on the organisation row locked FOR UPDATE, in one transaction
   * with its audit row, so two concurrent changes never record the same `before`.
   */
  private async changeLocked(orgId: string, change: (em: EntityManager, org: Organization) => void): Promise<Organization> {
    if (!isIdOf(IdPrefix.Organization, orgId)) throw AppError.notFound('Organization');
    return this.em.transactional(async (em) => {
      const org = await em.findOne(Organization, { id: orgId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!org) throw AppError.notFound('Organization');
      change(em, org);
      await em.flush();
      return org;
    });
  }
}
