import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';

import { AuditService } from '@latchkey/audit';
import { AppConfig } from '@latchkey/config';
import { EventType } from '@latchkey/contracts';
import { ActorType, DeliveryStatus, WebhookDisabledReason, WebhookEndpoint } from '@latchkey/db';
import { OutboxService } from '@latchkey/outbox';

import { AttemptEntry, recordAttempt } from './delivery-attempt-log';
import { EndpointToSend } from './delivery-to-send';
import { DeliveryOutcome } from './webhook-delivery.metrics';

const SYSTEM_ACTOR = { type: ActorType.System, id: null, ip: null, userAgent: null };

/**
 * Why a failed attempt disables its endpoint, or null when it does not: a 410 Gone at
 * once (the subscriber says the endpoint is gone for good), any other failure once the
 * endpoint has been failing, with no success in between, for WEBHOOK_DISABLE_AFTER.
 * `failingSince` is when the current run of failures began (null: this is its first).
 */
export function disablingReason(
  statusCode: number | null,
  failingSince: Date | null,
  attemptedAt: Date,
  disableAfterMs: number,
): WebhookDisabledReason | null {
  if (statusCode === 410) return WebhookDisabledReason.Gone;
  const failingForMs = attemptedAt.getTime() - (failingSince ?? attemptedAt).getTime();
  return failingForMs >= disableAfterMs ? WebhookDisabledReason.Failing : null;
}

export interface DisablingOutcome {
  outcome: DeliveryOutcome;
  /** The wait before the delivery's next attempt when it is retried after all, else null. */
  nextDelayMs: number | null;
  /** True when this attempt disabled the endpoint (false when someone else did first). */
  disabled: boolean;
}

/**
 * Disables a webhook endpoint automatically: records the attempt that ends it and the
 * endpoint's disabling in one transaction with the announcement (a
 * `webhook_endpoint.disabled` event in the outbox and an audit row), so an endpoint is
 * never disabled silently nor announced twice.
 */
@Injectable()
export class EndpointDisabling {
  private readonly logger = new Logger(EndpointDisabling.name);

  constructor(
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly orm: MikroORM,
    private readonly outbox: OutboxService,
  ) {}

  /** Whether this failed attempt should go through recordAndDisable (judged on the endpoint as loaded). */
  disables(endpoint: EndpointToSend, statusCode: number | null, attemptedAt: Date): boolean {
    return disablingReason(statusCode, endpoint.failingSince, attemptedAt, this.config.get('webhookDisableAfterMs')) !== null;
  }

  /**
   * A 410, or a failure at the end of the window. The window is judged again under the
   * transaction on failing_since as stored, since the loaded one is a few milliseconds
   * old: a success elsewhere may have restarted it, and then this is an ordinary
   * failure, retried after `retryDelay()` (or failed for good when that is null).
   */
  async recordAndDisable(
    endpoint: EndpointToSend,
    entry: AttemptEntry,
    attempt: number,
    retryDelay: () => number | null,
  ): Promise<DisablingOutcome> {
    const em = this.orm.em.fork() as EntityManager;
    return em.transactional(async (tx): Promise<DisablingOutcome> => {
      const failed = { status: DeliveryStatus.Failed, nextAttemptAt: null, attemptCount: attempt };
      const at = entry.attemptedAt;
      if (entry.statusCode === 410) {
        await recordAttempt(tx, endpoint.id, entry, failed);
        const disabled = await this.disable(tx, endpoint, WebhookDisabledReason.Gone, at);
        return { outcome: 'gone', nextDelayMs: null, disabled };
      }
      const rows: { failing_since: Date }[] = await tx.execute(
        'update webhook_endpoints set failing_since = coalesce(failing_since, ?) where id = ? returning failing_since',
        [at, endpoint.id],
      );
      const failingSince = new Date(rows[0]?.failing_since ?? at);
      if (disablingReason(entry.statusCode, failingSince, at, this.config.get('webhookDisableAfterMs')) !== null) {
        await recordAttempt(tx, endpoint.id, entry, failed);
        const disabled = await this.disable(tx, endpoint, WebhookDisabledReason.Failing, at);
        return { outcome: 'failed', nextDelayMs: null, disabled };
      }
      const next = retryDelay();
      const change =
        next === null ? failed : { status: DeliveryStatus.Pending, nextAttemptAt: new Date(at.getTime() + next), attemptCount: attempt };
      await recordAttempt(tx, endpoint.id, entry, change);
      return { outcome: next === null ? 'failed' : 'retry', nextDelayMs: next, disabled: false };
    });
  }

  /** Disables the endpoint unless someone did already, and announces it in the same transaction; false if it was disabled already. */
  private async disable(tx: EntityManager, endpoint: EndpointToSend, reason: WebhookDisabledReason, now: Date): Promise<boolean> {
    const changed = await tx.nativeUpdate(
      WebhookEndpoint,
      { id: endpoint.id, disabledAt: null },
      { disabledAt: now, disabledReason: reason, updatedAt: now },
    );
    if (changed === 0) return false;
    const orgId = endpoint.orgId;
    this.logger.warn(`webhook endpoint ${endpoint.id} disabled (${reason})`);
    this.outbox.add(tx, {
      orgId,
      environment: endpoint.environment,
      type: EventType.WebhookEndpointDisabled,
      data: { endpoint_id: endpoint.id, url: endpoint.url, reason },
    });
    this.audit.record(tx, {
      orgId,
      actor: SYSTEM_ACTOR,
      action: EventType.WebhookEndpointDisabled,
      target: { type: 'webhook_endpoint', id: endpoint.id },
      before: { disabled_at: null },
      after: { disabled_at: now.toISOString(), disabled_reason: reason },
    });
    return true;
  }
}
