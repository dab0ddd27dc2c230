import { FilterQuery, LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';

import { OrgPrincipal } from '@latchkey/access';
import { AuditActor, AuditService } from '@latchkey/audit';
import { EventType, Page, PageRequest } from '@latchkey/contracts';
import { DAY_MS, DeliveryStatus, findPage, WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint } from '@latchkey/db';
import { IdPrefix, isIdOf } from '@latchkey/ids';
import { AppError } from '@latchkey/platform';

import { RECOVER_WINDOW_DAYS } from './dto/recover-webhook-deliveries-query.dto';
import { RecoverWebhookDeliveriesResponseDto, WebhookDeliveryResponseDto } from './dto/webhook-delivery-response.dto';
import { ScheduledAttempt, WebhookDeliveriesProducer } from './webhook-deliveries.producer';
import { assertEnabled } from './webhooks.service';

export interface DeliveryFilter {
  status?: DeliveryStatus;
  event_type?: EventType;
}

/**
 * The delivery log of an endpoint and the two ways to send again by hand: retry one
 * delivery, or recover every failed one since a time (as Svix's recover). A re-send
 * makes the delivery `pending` with `next_attempt_at = now` in the database first and
 * then queues the attempt; should Redis refuse the job, the pending row is still there
 * for the delivery engine's own scheduling to pick up, and the caller gets a 503.
 */
@Injectable()
export class WebhookDeliveriesService {
  private readonly logger = new Logger(WebhookDeliveriesService.name);

  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly producer: WebhookDeliveriesProducer,
  ) {}

  async list(
    principal: OrgPrincipal,
    endpointId: string,
    filter: DeliveryFilter,
    page: PageRequest,
  ): Promise<Page<WebhookDeliveryResponseDto>> {
    const endpoint = await this.findEndpoint(this.em, principal.orgId, endpointId);
    const where: FilterQuery<WebhookDelivery> = {
      endpoint,
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.event_type ? { eventType: filter.event_type } : {}),
    };
    const deliveries = await findPage(this.em, WebhookDelivery, where, page);
    const attempts = await this.attemptsOf(this.em, deliveries.items);
    return deliveries.map((delivery) => WebhookDeliveryResponseDto.from(delivery, attempts.get(delivery.id) ?? []));
  }

  /** Sends one delivery again, whatever its status: pending now, with the next attempt queued. */
  async retry(principal: OrgPrincipal, deliveryId: string, actor: AuditActor): Promise<WebhookDeliveryResponseDto> {
    if (!isIdOf(IdPrefix.Delivery, deliveryId)) throw AppError.notFound('Webhook delivery');
    const delivery = await this.em.transactional(async (em) => {
      const found = await em.findOne(
        WebhookDelivery,
        { id: deliveryId, orgId: principal.orgId },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      if (!found) throw AppError.notFound('Webhook delivery');
      assertEnabled(await em.findOneOrFail(WebhookEndpoint, { id: found.endpoint.id, organization: principal.orgId }));
      const before = { status: found.status, next_attempt_at: found.nextAttemptAt?.toISOString() ?? null };
      found.status = DeliveryStatus.Pending;
      found.nextAttemptAt = new Date();
      this.audit.record(em, {
        orgId: principal.orgId,
        actor,
        action: 'webhook.delivery_retried',
        target: { type: 'webhook_delivery', id: found.id },
        before,
        after: { status: found.status, next_attempt_at: found.nextAttemptAt.toISOString(), endpoint_id: found.endpoint.id },
      });
      await em.flush();
      return found;
    });
    await this.enqueue([{ deliveryId: delivery.id, attempt: delivery.attemptCount + 1 }]);
    const attempts = await this.attemptsOf(this.em.fork(), [delivery]);
    return WebhookDeliveryResponseDto.from(delivery, attempts.get(delivery.id) ?? []);
  }

  /** Re-schedules every failed delivery of the endpoint created at or after `since` (at most RECOVER_WINDOW_DAYS ago). */
  async recover(principal: OrgPrincipal, endpointId: string, since: Date, actor: AuditActor): Promise<RecoverWebhookDeliveriesResponseDto> {
    const scheduled = await this.em.transactional(async (em) => {
      // Another organisation's endpoint is not found, whatever the since.
      const endpoint = await this.findEndpoint(em, principal.orgId, endpointId, true);
      assertRecoverableSince(since);
      assertEnabled(endpoint);
      // One statement, so a delivery the worker is finishing meanwhile is either
      // recovered or not, never half-updated.
      const rows = await em.getConnection().execute<{ id: string; attempt_count: number }[]>(
        `update webhook_deliveries
            set status = 'pending', next_attempt_at = now(), updated_at = now()
          where endpoint_id = ? and status = 'failed' and created_at >= ?
          returning id, attempt_count`,
        [endpoint.id, since],
      );
      const attempts: ScheduledAttempt[] = rows.map((row) => ({ deliveryId: row.id, attempt: Number(row.attempt_count) + 1 }));
      this.audit.record(em, {
        orgId: principal.orgId,
        actor,
        action: 'webhook.deliveries_recovered',
        target: { type: 'webhook_endpoint', id: endpoint.id },
        after: { since: since.toISOString(), recovered: attempts.length },
      });
      await em.flush();
      return attempts;
    });
    await this.enqueue(scheduled);
    return { recovered: scheduled.length, since: since.toISOString() };
  }

  private async enqueue(attempts: ScheduledAttempt[]): Promise<void> {
    if (attempts.length === 0) return;
    try {
      await this.producer.enqueueAttempts(attempts);
    } catch (error) {
      this.logger.warn(`could not queue ${attempts.length} webhook deliveries: ${(error as Error).message}`);
      throw AppError.unavailable('The delivery is scheduled but could not be queued right now; it will be sent once the queue is back.');
    }
  }

  private async findEndpoint(em: EntityManager, orgId: string, endpointId: string, lock = false): Promise<WebhookEndpoint> {
    const endpoint = isIdOf(IdPrefix.WebhookEndpoint, endpointId)
      ? await em.findOne(WebhookEndpoint, { id: endpointId, organization: orgId }, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {})
      : null;
    if (!endpoint) throw AppError.notFound('Webhook endpoint');
    return endpoint;
  }

  /** Every attempt of these deliveries, oldest first, in one query. */
  private async attemptsOf(em: EntityManager, deliveries: WebhookDelivery[]): Promise<Map<string, WebhookDeliveryAttempt[]>> {
    const byDelivery = new Map<string, WebhookDeliveryAttempt[]>();
    if (deliveries.length === 0) return byDelivery;
    const attempts = await em.find(
      WebhookDeliveryAttempt,
      { delivery: { $in: deliveries.map((delivery) => delivery.id) } },
      { orderBy: { attemptedAt: 'asc', id: 'asc' } },
    );
    for (const attempt of attempts) {
      const list = byDelivery.get(attempt.delivery.id) ?? [];
      list.push(attempt);
      byDelivery.set(attempt.delivery.id, list);
    }
    return byDelivery;
  }
}

/** since: not in the future, and within the recover window. */
function assertRecoverableSince(since: Date): void {
  if (since.getTime() > Date.now()) {
    throw AppError.validation('since must not be in the future.', [{ field: 'since', message: 'since must not be in the future' }]);
  }
  const earliest = new Date(Date.now() - RECOVER_WINDOW_DAYS * DAY_MS);
  if (since < earliest) {
    throw AppError.validation(`since may be at most ${RECOVER_WINDOW_DAYS} days ago; nothing was re-sent.`, [
      { field: 'since', message: `since must be ${earliest.toISOString()} or later` },
    ]);
  }
}
