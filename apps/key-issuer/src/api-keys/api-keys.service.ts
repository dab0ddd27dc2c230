import { FilterQuery, LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { actingIdOf, OrgPrincipal } from '@latchkey/access';
import { AuditActor, AuditService } from '@latchkey/audit';
import { AppConfig } from '@latchkey/config';
import { EventType, KeyChangedNotice, OrganizationReply, OrgsPattern, Page, PageRequest } from '@latchkey/contracts';
import { ApiKeyKind, generateApiKey, hmacSha256Hex, maskApiKey, SecretBox } from '@latchkey/crypto';
import {
  ApiKey,
  ApiKeyEnvironment,
  ApiKeyRestrictions,
  ApiKeyStatus,
  EMPTY_RESTRICTIONS,
  findPage,
  LiveAccessStatus,
  Organization,
} from '@latchkey/db';
import { IdPrefix, isIdOf } from '@latchkey/ids';
import { OutboxService } from '@latchkey/outbox';
import { AppError, canonicalIpRange, RpcClient } from '@latchkey/platform';

import { KeyChangePublisher } from '../key-changes/key-change.publisher';
import { idleKeyCondition } from '../usage-reports/idle-keys';
import { ApiKeyAction, assertApiKeyActionAllowed } from './api-key-policy';
import { ApiKeyResponseDto, ApiKeyWithSecretResponseDto } from './dto/api-key-response.dto';
import { ApiKeyRestrictionsDto } from './dto/api-key-restrictions.dto';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { ListApiKeysQueryDto } from './dto/list-api-keys-query.dto';
import { ROLL_GRACE_DEFAULT_SECONDS } from './dto/roll-api-key.dto';
import { UpdateApiKeyDto } from './dto/update-api-key.dto';

const DAY_MS = 24 * 60 * 60 * 1000;

export type ApiKeyListFilter = Pick<ListApiKeysQueryDto, 'search' | 'environment' | 'status' | 'created_by' | 'owner_id' | 'idle_days'>;

type ApiKeyChangeEvent =
  | typeof EventType.ApiKeyCreated
  | typeof EventType.ApiKeyUpdated
  | typeof EventType.ApiKeyRolled
  | typeof EventType.ApiKeyRevoked
  | typeof EventType.ApiKeyDeleted;

/** What one committed change announces: the audit row, the outbox event and the key-changed notice. */
interface KeyChange {
  auditAction: string;
  /** The events whose data is the key itself (API_KEY_EVENT_DATA). */
  event: ApiKeyChangeEvent;
  notice: KeyChangedNotice['change'];
  before?: object;
  after?: object;
}

/** The outcome of a change run under the key's row lock; `change: null` when nothing changed. */
interface ChangeResult<T> {
  answer: T;
  change: KeyChange | null;
}

/**
 * The API-key life cycle (docs/api-conventions.md#api-keys): issue, list, read, edit,
 * disable/enable, roll, revoke and delete. Every lookup is scoped to the session's organisation, so
 * another tenant's key is simply not found. Every change commits in one transaction with its audit
 * row and outbox event, and is announced to auth-check instances after commit.
 */
@Injectable()
export class ApiKeysService {
  private readonly box: SecretBox;
  private readonly hashSecret: string;

  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly publisher: KeyChangePublisher,
    private readonly rpc: RpcClient,
    config: AppConfig,
  ) {
    this.box = new SecretBox(config.get('ENCRYPTION_KEY'));
    this.hashSecret = config.get('KEY_HASH_SECRET');
  }

  async create(principal: OrgPrincipal, input: CreateApiKeyDto, actor: AuditActor): Promise<ApiKeyWithSecretResponseDto> {
    assertApiKeyActionAllowed(policyActorOf(principal), ApiKeyAction.Create);
    const scope = environmentScopeOf(principal);
    if (scope.environment && input.environment !== scope.environment) {
      throw new AppError('FORBIDDEN', `This management key issues ${scope.environment} keys only.`);
    }
    if (input.expires_in_days !== undefined && (input.expires_at ?? null) !== null) {
      throw AppError.validation('Send expires_in_days or expires_at, not both.', [
        { field: 'expires_at', message: 'expires_at cannot be combined with expires_in_days' },
      ]);
    }
    // The organisation belongs to org-api: read it over the Redis transport, as a split deployment must.
    const org = await this.rpc.send<OrganizationReply>(OrgsPattern.GetOrganization, { org_id: principal.orgId });
    const now = new Date();
    const expiresAt = resolveExpiry(input, org.settings, now);
    if (input.environment === ApiKeyEnvironment.Live && org.live_access !== LiveAccessStatus.Approved) {
      throw new AppError(
        'LIVE_MODE_NOT_ENABLED',
        'Live keys need approved live access: request it with POST /v1/orgs/current/live-access.',
      );
    }

    const secret = generateApiKey(input.environment, ApiKeyKind.Secret);
    const created = await this.em.transactional(async (em) => {
      const key = em.create(ApiKey, {
        organization: em.getReference(Organization, principal.orgId),
        environment: input.environment,
        name: input.name,
        description: input.description ?? null,
        prefix: `${ApiKeyKind.Secret}_${input.environment}_`,
        last4: secret.slice(-4),
        secretHash: this.hash(secret),
        createdBy: actingIdOf(principal),
        ownerId: input.owner_id ?? null,
        permissions: input.permissions ?? [],
        restrictions: mergeRestrictions(input.restrictions, EMPTY_RESTRICTIONS),
        rateLimit: input.rate_limit ? { limit: input.rate_limit.limit, window_seconds: input.rate_limit.window_seconds } : null,
        quota: input.quota ? { limit: input.quota.limit, period: input.quota.period } : null,
        metadata: input.metadata ?? {},
        expiresAt,
        createdAt: now,
        secretRotatedAt: now,
        updatedAt: now,
      });
      if (input.signing) {
        key.publicKey = generateApiKey(input.environment, ApiKeyKind.Public);
        // Bound to the key id: a sealed secret copied onto another row does not open.
        key.signingSecretSealed = this.box.seal(secret, key.id);
      }
      const view = ApiKeyResponseDto.from(key, now);
      this.record(
        em,
        key,
        actor,
        { auditAction: EventType.ApiKeyCreated, event: EventType.ApiKeyCreated, notice: 'created', after: view },
        view,
      );
      await em.flush();
      return { key, view };
    });
    await this.publish(created.key, [], 'created');
    return { ...created.view, secret };
  }

  async list(principal: OrgPrincipal, filter: ApiKeyListFilter, page: PageRequest): Promise<Page<ApiKeyResponseDto>> {
    // One clock for the filter and the derived status, so a listed key never contradicts the filter.
    const now = new Date();
    const conditions: FilterQuery<ApiKey>[] = [{ organization: principal.orgId, ...environmentScopeOf(principal) }];
    if (filter.environment) conditions.push({ environment: filter.environment });
    if (filter.created_by) conditions.push({ createdBy: filter.created_by });
    if (filter.owner_id) conditions.push({ ownerId: filter.owner_id });
    if (filter.status) conditions.push(statusCondition(filter.status, now));
    if (filter.idle_days !== undefined) conditions.push(idleKeyCondition(filter.idle_days, now));
    if (filter.search) {
      const text = escapeLike(filter.search);
      conditions.push({
        $or: [
          { name: { $ilike: `%${text}%` } },
          { description: { $ilike: `%${text}%` } },
          { prefix: { $like: `${text}%` } },
          { id: { $like: `${text}%` } },
        ],
      });
    }
    const keys = await findPage(this.em, ApiKey, { $and: conditions }, page);
    return keys.map((key) => ApiKeyResponseDto.from(key, now));
  }

  async get(principal: OrgPrincipal, keyId: string): Promise<ApiKeyResponseDto> {
    const key = isIdOf(IdPrefix.ApiKey, keyId)
      ? await this.em.findOne(ApiKey, { id: keyId, organization: principal.orgId, ...environmentScopeOf(principal) })
      : null;
    if (!key) throw AppError.notFound('API key');
    assertApiKeyActionAllowed(policyActorOf(principal), ApiKeyAction.Read, key);
    return ApiKeyResponseDto.from(key);
  }

  async update(principal: OrgPrincipal, keyId: string, input: UpdateApiKeyDto, actor: AuditActor): Promise<ApiKeyResponseDto> {
    const fields = Object.keys(input).filter((field) => (input as Record<string, unknown>)[field] !== undefined);
    if (fields.length === 0) throw AppError.validation('Send at least one field to change.');
    return this.change(principal, keyId, ApiKeyAction.Update, actor, (key, now) => {
      assertNotRevoked(key);
      const before = ApiKeyResponseDto.from(key, now);
      if (input.name !== undefined) key.name = input.name;
      if (input.description !== undefined) key.description = input.description;
      if (input.expires_at !== undefined) key.expiresAt = input.expires_at === null ? null : new Date(input.expires_at);
      if (input.permissions !== undefined) key.permissions = input.permissions;
      if (input.restrictions !== undefined) key.restrictions = mergeRestrictions(input.restrictions, key.restrictions);
      if (input.rate_limit !== undefined) {
        key.rateLimit = input.rate_limit ? { limit: input.rate_limit.limit, window_seconds: input.rate_limit.window_seconds } : null;
      }
      if (input.quota !== undefined) key.quota = input.quota ? { limit: input.quota.limit, period: input.quota.period } : null;
      if (input.metadata !== undefined) key.metadata = input.metadata;
      if (input.owner_id !== undefined) key.ownerId = input.owner_id;
      const after = ApiKeyResponseDto.from(key, now);
      const diff = changedFields(before, after);
      // An edit that changes nothing is not a change: no audit row, no event, no updated_at bump.
      if (!diff) return { answer: before, change: null };
      key.updatedAt = now;
      return {
        answer: { ...after, updated_at: now.toISOString() },
        change: { auditAction: EventType.ApiKeyUpdated, event: EventType.ApiKeyUpdated, notice: 'updated', ...diff },
      };
    });
  }

  /** Pauses a key without losing it; disabling a disabled key answers it as it is. */
  async disable(principal: OrgPrincipal, keyId: string, actor: AuditActor): Promise<ApiKeyResponseDto> {
    return this.change(principal, keyId, ApiKeyAction.Disable, actor, (key, now) => {
      assertNotRevoked(key);
      if (key.disabledAt) return { answer: ApiKeyResponseDto.from(key, now), change: null };
      const before = { status: ApiKeyResponseDto.from(key, now).status, disabled_at: null };
      key.disabledAt = now;
      key.updatedAt = now;
      const answer = ApiKeyResponseDto.from(key, now);
      return {
        answer,
        change: {
          auditAction: 'api_key.disabled',
          event: EventType.ApiKeyUpdated,
          notice: 'disabled',
          before,
          after: { status: answer.status, disabled_at: answer.disabled_at },
        },
      };
    });
  }

  /** Resumes a disabled key; enabling an enabled key answers it as it is. */
  async enable(principal: OrgPrincipal, keyId: string, actor: AuditActor): Promise<ApiKeyResponseDto> {
    return this.change(principal, keyId, ApiKeyAction.Enable, actor, (key, now) => {
      assertNotRevoked(key);
      if (!key.disabledAt) return { answer: ApiKeyResponseDto.from(key, now), change: null };
      const before = { status: ApiKeyStatus.Disabled, disabled_at: key.disabledAt.toISOString() };
      key.disabledAt = null;
      key.updatedAt = now;
      const answer = ApiKeyResponseDto.from(key, now);
      return {
        answer,
        change: {
          auditAction: 'api_key.enabled',
          event: EventType.ApiKeyUpdated,
          notice: 'enabled',
          before,
          after: { status: answer.status, disabled_at: null },
        },
      };
    });
  }

  /**
   * A new secret, answered once. The old one keeps working for `expireOldInSeconds`
   * (0: stops at once). Only one old secret is kept: rolling again during a grace
   * period ends the earlier old secret's grace at once.
   */
  async roll(
    principal: OrgPrincipal,
    keyId: string,
    expireOldInSeconds: number | undefined,
    actor: AuditActor,
  ): Promise<ApiKeyWithSecretResponseDto> {
    const grace = expireOldInSeconds ?? ROLL_GRACE_DEFAULT_SECONDS;
    return this.change(principal, keyId, ApiKeyAction.Roll, actor, (key, now) => {
      assertNotRevoked(key);
      const before = { masked: maskApiKey(key.prefix, key.last4) };
      const secret = generateApiKey(key.environment, ApiKeyKind.Secret);
      const oldHash = key.secretHash;
      const oldSealed = key.signingSecretSealed;
      key.secretHash = this.hash(secret);
      key.last4 = secret.slice(-4);
      // The rotation policy starts over with the new secret.
      key.secretRotatedAt = now;
      if (key.publicKey) key.signingSecretSealed = this.box.seal(secret, key.id);
      if (grace > 0) {
        key.previousSecretHash = oldHash;
        key.previousSecretExpiresAt = new Date(now.getTime() + grace * 1000);
        key.previousSigningSecretSealed = oldSealed;
      } else {
        key.previousSecretHash = null;
        key.previousSecretExpiresAt = null;
        key.previousSigningSecretSealed = null;
      }
      key.updatedAt = now;
      const answer = ApiKeyResponseDto.from(key, now);
      return {
        answer: { ...answer, secret },
        change: {
          auditAction: EventType.ApiKeyRolled,
          event: EventType.ApiKeyRolled,
          notice: 'rolled',
          before,
          after: { masked: answer.masked, old_valid_until: key.previousSecretExpiresAt?.toISOString() ?? null },
        },
      };
    });
  }

  /** Final. Revoking a revoked key answers it as it is (a retried click is not an error). */
  async revoke(principal: OrgPrincipal, keyId: string, actor: AuditActor): Promise<ApiKeyResponseDto> {
    return this.change(principal, keyId, ApiKeyAction.Revoke, actor, (key, now) => {
      if (key.revokedAt) return { answer: ApiKeyResponseDto.from(key, now), change: null };
      const before = { status: ApiKeyResponseDto.from(key, now).status, revoked_at: null };
      key.revokedAt = now;
      key.updatedAt = now;
      const answer = ApiKeyResponseDto.from(key, now);
      return {
        answer,
        change: {
          auditAction: EventType.ApiKeyRevoked,
          event: EventType.ApiKeyRevoked,
          notice: 'revoked',
          before,
          after: { status: answer.status, revoked_at: answer.revoked_at },
        },
      };
    });
  }

  /** Removes the key for good; the audit row and the event keep its id. Answers the key as it was. */
  async delete(principal: OrgPrincipal, keyId: string, actor: AuditActor): Promise<ApiKeyResponseDto> {
    return this.change(principal, keyId, ApiKeyAction.Delete, actor, (key, now, em) => {
      const answer = ApiKeyResponseDto.from(key, now);
      em.remove(key);
      return {
        answer,
        change: { auditAction: EventType.ApiKeyDeleted, event: EventType.ApiKeyDeleted, notice: 'deleted', before: answer },
      };
    });
  }

  /**
   * Runs a change on the caller's key, locked FOR UPDATE so two changes to one key
   * are serialised, in one transaction with its audit row and outbox event. The
   * key-changed notice goes out after commit, naming every secret hash the key
   * answered to before or after, so auth-check drops each cached entry.
   */
  private async change<T extends ApiKeyResponseDto>(
    principal: OrgPrincipal,
    keyId: string,
    action: ApiKeyAction,
    actor: AuditActor,
    apply: (key: ApiKey, now: Date, em: EntityManager) => ChangeResult<T>,
  ): Promise<T> {
    if (!isIdOf(IdPrefix.ApiKey, keyId)) throw AppError.notFound('API key');
    const result = await this.em.transactional(async (em) => {
      const key = await em.findOne(
        ApiKey,
        { id: keyId, organization: principal.orgId, ...environmentScopeOf(principal) },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      if (!key) throw AppError.notFound('API key');
      assertApiKeyActionAllowed(policyActorOf(principal), action, key);
      const hashesBefore = [key.secretHash, key.previousSecretHash].filter((hash): hash is string => hash !== null);
      const now = new Date();
      const outcome = apply(key, now, em);
      // Flushed first so the view below carries what was stored (updated_at is set on flush).
      await em.flush();
      const deleted = outcome.change?.event === EventType.ApiKeyDeleted;
      const answer: T = deleted ? outcome.answer : { ...outcome.answer, ...ApiKeyResponseDto.from(key, now) };
      if (outcome.change) {
        this.record(em, key, actor, outcome.change, deleted ? outcome.answer : ApiKeyResponseDto.from(key, now));
        await em.flush();
      }
      return { change: outcome.change, answer, key, hashesBefore };
    });
    if (result.change) await this.publish(result.key, result.hashesBefore, result.change.notice);
    return result.answer;
  }

  /** The audit row and the outbox event of one change, in the change's transaction. */
  private record(em: EntityManager, key: ApiKey, actor: AuditActor, change: KeyChange, data: ApiKeyResponseDto): void {
    const orgId = key.organization.id;
    this.audit.record(em, {
      orgId,
      actor,
      action: change.auditAction,
      target: { type: 'api_key', id: key.id },
      before: change.before ?? null,
      after: change.after ?? null,
    });
    this.outbox.add(em, { orgId, environment: key.environment, type: change.event, data: { ...data } });
  }

  private async publish(key: ApiKey, hashesBefore: string[], change: KeyChangedNotice['change']): Promise<void> {
    const hashes = new Set([...hashesBefore, key.secretHash, ...(key.previousSecretHash ? [key.previousSecretHash] : [])]);
    await this.publisher.publish({
      key_id: key.id,
      org_id: key.organization.id,
      secret_hashes: [...hashes],
      public_key: key.publicKey,
      change,
    });
  }

  private hash(secret: string): string {
    return hmacSha256Hex(this.hashSecret, secret);
  }
}

/** The key policy's view of a caller: a management key acts as its role, and owns the keys it created. */
function policyActorOf(principal: OrgPrincipal): { role: OrgPrincipal['role']; userId: string } {
  return { role: principal.role, userId: actingIdOf(principal) };
}

/**
 * A management key narrowed to one environment sees and issues only that environment's
 * keys; another environment's key is a 404, as another tenant's is.
 */
function environmentScopeOf(principal: OrgPrincipal): { environment?: ApiKeyEnvironment } {
  return principal.kind === 'management_key' && principal.environment ? { environment: principal.environment } : {};
}

function assertNotRevoked(key: ApiKey): void {
  if (key.revokedAt) throw new AppError('KEY_REVOKED', 'This key is revoked; revoked keys cannot be changed.');
}

/**
 * The expiry of a new key: a preset number of days, a custom future date, or the
 * organisation's default (null = never). The DTO already refused past dates.
 */
function resolveExpiry(input: CreateApiKeyDto, settings: OrganizationReply['settings'], now: Date): Date | null {
  if (input.expires_in_days !== undefined) {
    const presets = settings.allowed_expiry_presets;
    if (!presets.includes(input.expires_in_days)) {
      throw AppError.validation(`expires_in_days must be one of: ${presets.join(', ')}.`, [
        { field: 'expires_in_days', message: `expires_in_days must be one of: ${presets.join(', ')}` },
      ]);
    }
    return new Date(now.getTime() + input.expires_in_days * DAY_MS);
  }
  if (input.expires_at) return new Date(input.expires_at);
  return settings.default_expiry_days === null ? null : new Date(now.getTime() + settings.default_expiry_days * DAY_MS);
}

/**
 * Restrictions after an edit: each list given replaces that list (IP ranges in
 * canonical CIDR form, referrers lower-cased, duplicates dropped); lists left out keep their value.
 */
function mergeRestrictions(input: ApiKeyRestrictionsDto | undefined, base: ApiKeyRestrictions): ApiKeyRestrictions {
  const ipAllowlist = input?.ip_allowlist?.map((entry) => canonicalIpRange(entry)).filter((entry): entry is string => entry !== null);
  return {
    ip_allowlist: ipAllowlist ? [...new Set(ipAllowlist)] : [...base.ip_allowlist],
    referrers: input?.referrers ? [...new Set(input.referrers.map((referrer) => referrer.toLowerCase()))] : [...base.referrers],
    endpoints: input?.endpoints
      ? uniqueBy(
          input.endpoints.map(({ method, path }) => ({ method, path })),
          (endpoint) => `${endpoint.method} ${endpoint.path}`,
        )
      : base.endpoints.map((endpoint) => ({ ...endpoint })),
  };
}

function uniqueBy<T>(items: T[], keyOf: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = keyOf(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The fields an edit changed, before and after; null when it changed nothing. */
function changedFields(before: ApiKeyResponseDto, after: ApiKeyResponseDto): { before: object; after: object } | null {
  const was: Record<string, unknown> = {};
  const is: Record<string, unknown> = {};
  for (const field of Object.keys(after) as (keyof ApiKeyResponseDto)[]) {
    if (field === 'updated_at' || field === 'status') continue;
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) {
      was[field] = before[field];
      is[field] = after[field];
    }
  }
  return Object.keys(is).length === 0 ? null : { before: was, after: is };
}

/** The derived status as SQL conditions: revoked beats disabled beats expired (see apiKeyStatus). */
function statusCondition(status: ApiKeyStatus, now: Date): FilterQuery<ApiKey> {
  switch (status) {
    case ApiKeyStatus.Revoked:
      return { revokedAt: { $ne: null } };
    case ApiKeyStatus.Disabled:
      return { revokedAt: null, disabledAt: { $ne: null } };
    case ApiKeyStatus.Expired:
      return { revokedAt: null, disabledAt: null, expiresAt: { $lte: now } };
    case ApiKeyStatus.Active:
      return { revokedAt: null, disabledAt: null, $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] };
  }
}

/** Makes user text literal inside a LIKE pattern (backslash is Postgres's default escape). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
