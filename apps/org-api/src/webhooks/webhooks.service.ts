import { FilterQuery, LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';

import { actingIdOf, OrgPrincipal } from '@latchkey/access';
import { AuditActor, AuditService } from '@latchkey/audit';
import { AppConfig } from '@latchkey/config';
import { EventType, Page, PageRequest } from '@latchkey/contracts';
import { SecretBox } from '@latchkey/crypto';
import { findPage, Organization, WebhookDisabledReason, WebhookEndpoint } from '@latchkey/db';
import { IdPrefix, isIdOf, newId } from '@latchkey/ids';
import { OutboxService } from '@latchkey/outbox';
import { AppError } from '@latchkey/platform';

import { CreateWebhookEndpointDto, WebhookEnvironment } from './dto/create-webhook-endpoint.dto';
import { UpdateWebhookEndpointDto } from './dto/update-webhook-endpoint.dto';
import { WebhookTestResponseDto } from './dto/webhook-delivery-response.dto';
import { WebhookEndpointResponseDto, WebhookEndpointWithSecretResponseDto } from './dto/webhook-endpoint-response.dto';
import { checkWebhookTarget } from './target-safety';
import { generateWebhookSecret } from './webhook-secret';

/** How long the previous secret keeps signing after a rotation (Standard Webhooks: several signatures per message). */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** What one committed change records; null when the call changed nothing. */
interface EndpointChange {
  action: 'webhook.updated' | 'webhook.disabled' | 'webhook.enabled' | 'webhook.deleted' | 'webhook.secret_rotated';
  before?: object;
  after?: object;
}

interface ChangeResult<T> {
  answer: T;
  change: EndpointChange | null;
}

/**
 * Webhook endpoints of the session's organisation (docs/api-conventions.md#webhooks):
 * create, list, read, edit, disable/enable, delete, rotate the signing secret and send a
 * test event. Every lookup is scoped to the session's organisation, so another tenant's
 * endpoint is simply not found. Who may call what is the routes' @Roles: there is no
 * per-endpoint rule (owners and admins manage every endpoint, others only read). Each
 * change commits with its audit row in one transaction under the endpoint's row lock.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly box: SecretBox;

  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
  ) {
    this.box = new SecretBox(config.get('ENCRYPTION_KEY'));
  }

  async create(principal: OrgPrincipal, input: CreateWebhookEndpointDto, actor: AuditActor): Promise<WebhookEndpointWithSecretResponseDto> {
    const url = await this.safeUrl(input.url);
    const secret = generateWebhookSecret();
    const id = newId(IdPrefix.WebhookEndpoint);
    const view = await this.em.transactional(async (em) => {
      await this.assertRoomForEndpoint(em, principal.orgId, input.environment);
      const endpoint = em.create(WebhookEndpoint, {
        id,
        organization: em.getReference(Organization, principal.orgId),
        environment: input.environment,
        url,
        description: input.description ?? null,
        events: input.events,
        // Bound to the endpoint id: a sealed secret copied onto another row does not open.
        secretSealed: this.box.seal(secret, id),
        rateLimitPerSecond: input.rate_limit_per_second ?? null,
        createdBy: actingIdOf(principal),
      });
      const created = WebhookEndpointResponseDto.from(endpoint);
      this.record(em, principal.orgId, endpoint.id, actor, { action: 'webhook.created', after: created });
      await em.flush();
      return created;
    });
    return { ...view, secret };
  }

  async list(
    principal: OrgPrincipal,
    environment: WebhookEnvironment | undefined,
    page: PageRequest,
  ): Promise<Page<WebhookEndpointResponseDto>> {
    const where: FilterQuery<WebhookEndpoint> = { organization: principal.orgId, ...(environment ? { environment } : {}) };
    const endpoints = await findPage(this.em, WebhookEndpoint, where, page);
    const now = new Date();
    return endpoints.map((endpoint) => WebhookEndpointResponseDto.from(endpoint, now));
  }

  async get(principal: OrgPrincipal, endpointId: string): Promise<WebhookEndpointResponseDto> {
    return WebhookEndpointResponseDto.from(await this.findEndpoint(this.em, principal.orgId, endpointId));
  }

  async update(
    principal: OrgPrincipal,
    endpointId: string,
    input: UpdateWebhookEndpointDto,
    actor: AuditActor,
  ): Promise<WebhookEndpointResponseDto> {
    const fields = Object.keys(input).filter((field) => (input as Record<string, unknown>)[field] !== undefined);
    if (fields.length === 0) throw AppError.validation('Send at least one field to change.');
    if (!isIdOf(IdPrefix.WebhookEndpoint, endpointId)) throw AppError.notFound('Webhook endpoint');
    // Resolved before the row lock: DNS can be slow, and a lock should never wait on it.
    const url = input.url !== undefined ? await this.safeUrl(input.url) : undefined;
    return this.change(principal, endpointId, actor, (endpoint, now) => {
      const before = WebhookEndpointResponseDto.from(endpoint, now);
      if (url !== undefined) endpoint.url = url;
      if (input.events !== undefined) endpoint.events = input.events;
      if (input.description !== undefined) endpoint.description = input.description;
      if (input.rate_limit_per_second !== undefined) endpoint.rateLimitPerSecond = input.rate_limit_per_second;
      const after = WebhookEndpointResponseDto.from(endpoint, now);
      const diff = changedFields(before, after);
      // An edit that changes nothing is not a change: no audit row, no updated_at bump.
      if (!diff) return { answer: before, change: null };
      endpoint.updatedAt = now;
      return { answer: after, change: { action: 'webhook.updated', ...diff } };
    });
  }

  /** Pauses deliveries (reason `manual`); disabling a disabled endpoint answers it as it is. */
  async disable(principal: OrgPrincipal, endpointId: string, actor: AuditActor): Promise<WebhookEndpointResponseDto> {
    return this.change(principal, endpointId, actor, (endpoint, now) => {
      if (endpoint.disabledAt) return { answer: WebhookEndpointResponseDto.from(endpoint, now), change: null };
      endpoint.disabledAt = now;
      endpoint.disabledReason = WebhookDisabledReason.Manual;
      endpoint.updatedAt = now;
      const answer = WebhookEndpointResponseDto.from(endpoint, now);
      return {
        answer,
        change: {
          action: 'webhook.disabled',
          before: { status: 'enabled' },
          after: { status: answer.status, disabled_at: answer.disabled_at, disabled_reason: answer.disabled_reason },
        },
      };
    });
  }

  /**
   * Resumes deliveries, whatever disabled the endpoint (an admin, a 410 or the failure
   * window), and starts its failure window afresh. Deliveries that failed meanwhile
   * stay failed: recover re-sends them.
   */
  async enable(principal: OrgPrincipal, endpointId: string, actor: AuditActor): Promise<WebhookEndpointResponseDto> {
    return this.change(principal, endpointId, actor, (endpoint, now) => {
      if (!endpoint.disabledAt) return { answer: WebhookEndpointResponseDto.from(endpoint, now), change: null };
      const before = WebhookEndpointResponseDto.from(endpoint, now);
      endpoint.disabledAt = null;
      endpoint.disabledReason = null;
      endpoint.failingSince = null;
      endpoint.updatedAt = now;
      return {
        answer: WebhookEndpointResponseDto.from(endpoint, now),
        change: {
          action: 'webhook.enabled',
          before: {
            status: before.status,
            disabled_at: before.disabled_at,
            disabled_reason: before.disabled_reason,
            failing_since: before.failing_since,
          },
          after: { status: 'enabled' },
        },
      };
    });
  }

  /** Deletes the endpoint and its delivery log. Answers the endpoint as it was. */
  async delete(principal: OrgPrincipal, endpointId: string, actor: AuditActor): Promise<WebhookEndpointResponseDto> {
    return this.change(principal, endpointId, actor, (endpoint, now, em) => {
      const answer = WebhookEndpointResponseDto.from(endpoint, now);
      em.remove(endpoint);
      return { answer, change: { action: 'webhook.deleted', before: answer } };
    });
  }

  /**
   * A new signing secret, answered once. The current one becomes the previous one and
   * keeps signing beside it for 24 h, so subscribers can switch without losing a
   * message. Only one previous secret is kept: rotating again during an overlap ends
   * the earlier previous secret at once.
   */
  async rotateSecret(principal: OrgPrincipal, endpointId: string, actor: AuditActor): Promise<WebhookEndpointWithSecretResponseDto> {
    const secret = generateWebhookSecret();
    return this.change(principal, endpointId, actor, (endpoint, now) => {
      endpoint.previousSecretSealed = endpoint.secretSealed;
      endpoint.previousSecretExpiresAt = new Date(now.getTime() + SECRET_OVERLAP_MS);
      endpoint.secretSealed = this.box.seal(secret, endpoint.id);
      endpoint.updatedAt = now;
      const answer = WebhookEndpointResponseDto.from(endpoint, now);
      return {
        answer: { ...answer, secret },
        // Audit rows drop every field named like a secret, so the overlap end has a neutral name.
        change: { action: 'webhook.secret_rotated', after: { previous_valid_until: answer.previous_secret_expires_at } },
      };
    });
  }

  /**
   * Writes a `webhook.test` event through the outbox with data `{endpoint_id}`. Fan-out
   * delivers webhook.test only to the endpoint it names, whatever that endpoint's
   * `events`, and to no other endpoint of the organisation.
   */
  async sendTest(principal: OrgPrincipal, endpointId: string): Promise<WebhookTestResponseDto> {
    return this.em.transactional(async (em) => {
      const endpoint = await this.findEndpoint(em, principal.orgId, endpointId);
      assertEnabled(endpoint);
      const event = this.outbox.add(em, {
        orgId: principal.orgId,
        environment: endpoint.environment,
        type: EventType.WebhookTest,
        data: { endpoint_id: endpoint.id },
      });
      await em.flush();
      return { event_id: event.id, type: event.type, endpoint_id: endpoint.id };
    });
  }

  /**
   * WEBHOOK_MAX_ENDPOINTS per organisation and environment, disabled endpoints
   * included (they still exist, and enabling one needs no room). Creations in the same
   * organisation and environment take turns on a transaction-scoped advisory lock, so
   * two at once cannot both take the last place.
   */
  private async assertRoomForEndpoint(em: EntityManager, orgId: string, environment: WebhookEnvironment): Promise<void> {
    await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`webhook-endpoints:${orgId}:${environment}`]);
    const max = this.config.get('WEBHOOK_MAX_ENDPOINTS');
    if ((await em.count(WebhookEndpoint, { organization: orgId, environment })) >= max) {
      throw new AppError(
        'WEBHOOK_ENDPOINT_LIMIT_REACHED',
        `This organisation already has ${max} webhook endpoints in the ${environment} environment, the most allowed; delete one first.`,
      );
    }
  }

  private async safeUrl(rawUrl: string): Promise<string> {
    const verdict = await checkWebhookTarget(rawUrl, {
      requireHttps: this.config.isProduction,
      allowPrivateTargets: this.config.get('WEBHOOK_ALLOW_PRIVATE_TARGETS'),
    });
    if (!verdict.allowed) {
      // The tenant hears only the generic reason; the operator sees what the host resolved to.
      if (verdict.logDetail) {
        const { host, address, problem } = verdict.logDetail;
        this.logger.warn({ msg: 'webhook URL refused: its host is not public', host, address, reason: problem });
      }
      throw AppError.validation('This URL cannot receive webhooks.', [{ field: 'url', message: verdict.reason }]);
    }
    return verdict.url;
  }

  private async findEndpoint(em: EntityManager, orgId: string, endpointId: string, lock = false): Promise<WebhookEndpoint> {
    const endpoint = isIdOf(IdPrefix.WebhookEndpoint, endpointId)
      ? await em.findOne(
          WebhookEndpoint,
          { id: endpointId, organization: orgId },
          lock ? { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } : {},
        )
      : null;
    if (!endpoint) throw AppError.notFound('Webhook endpoint');
    return endpoint;
  }

  /** Runs a change on the caller's endpoint, locked FOR UPDATE, in one transaction with its audit row. */
  private async change<T extends WebhookEndpointResponseDto>(
    principal: OrgPrincipal,
    endpointId: string,
    actor: AuditActor,
    apply: (endpoint: WebhookEndpoint, now: Date, em: EntityManager) => ChangeResult<T>,
  ): Promise<T> {
    if (!isIdOf(IdPrefix.WebhookEndpoint, endpointId)) throw AppError.notFound('Webhook endpoint');
    return this.em.transactional(async (em) => {
      const endpoint = await this.findEndpoint(em, principal.orgId, endpointId, true);
      const now = new Date();
      const outcome = apply(endpoint, now, em);
      if (outcome.change) this.record(em, principal.orgId, endpointId, actor, outcome.change);
      await em.flush();
      if (outcome.change?.action === 'webhook.deleted') return outcome.answer;
      // Read again after the flush: updated_at is stamped by it, and the answer must match what a GET shows.
      return { ...outcome.answer, ...WebhookEndpointResponseDto.from(endpoint, now) };
    });
  }

  private record(
    em: EntityManager,
    orgId: string,
    endpointId: string,
    actor: AuditActor,
    change: { action: string; before?: object; after?: object },
  ): void {
    this.audit.record(em, {
      orgId,
      actor,
      action: change.action,
      target: { type: 'webhook_endpoint', id: endpointId },
      before: change.before ?? null,
      after: change.after ?? null,
    });
  }
}

export function assertEnabled(endpoint: WebhookEndpoint): void {
  if (endpoint.disabledAt) {
    throw new AppError('WEBHOOK_ENDPOINT_DISABLED', 'This webhook endpoint is disabled; enable it first.');
  }
}

/** The fields that differ, as before/after objects; null when none do. */
function changedFields(before: WebhookEndpointResponseDto, after: WebhookEndpointResponseDto): { before: object; after: object } | null {
  const keys = (Object.keys(after) as (keyof WebhookEndpointResponseDto)[]).filter(
    (key) => key !== 'updated_at' && JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
  if (keys.length === 0) return null;
  return {
    before: Object.fromEntries(keys.map((key) => [key, before[key]])),
    after: Object.fromEntries(keys.map((key) => [key, after[key]])),
  };
}
