import { EntityManager } from '@mikro-orm/postgresql';

import { DeliveryStatus, WebhookDisabledReason } from '@latchkey/db';

/** The endpoint fields a delivery attempt needs. */
export interface EndpointToSend {
  id: string;
  orgId: string;
  environment: 'test' | 'live';
  url: string;
  secretSealed: string;
  previousSecretSealed: string | null;
  previousSecretExpiresAt: Date | null;
  rateLimitPerSecond: number | null;
  disabledAt: Date | null;
  disabledReason: WebhookDisabledReason | null;
  failingSince: Date | null;
}

/** A delivery with its endpoint, as one attempt reads them. */
export interface DeliveryToSend {
  id: string;
  eventId: string;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  endpoint: EndpointToSend;
}

interface Row {
  id: string;
  event_id: string;
  payload: Record<string, unknown> | string;
  status: DeliveryStatus;
  attempt_count: number | string;
  next_attempt_at: Date | string | null;
  endpoint_id: string;
  organization_id: string;
  environment: 'test' | 'live';
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | string | null;
  rate_limit_per_second: number | string | null;
  disabled_at: Date | string | null;
  disabled_reason: WebhookDisabledReason | null;
  failing_since: Date | string | null;
}

/**
 * Deliveries with their endpoints in one plain query, answered in the order asked,
 * null for one that is gone (deleted with its endpoint). Runs for every attempt
 * (several at once through a TickBatcher): plain SQL and plain objects, no entity
 * hydration or identity map, which the worker does not need.
 */
export async function loadDeliveriesToSend(em: EntityManager, deliveryIds: string[]): Promise<(DeliveryToSend | null)[]> {
  const rows: Row[] = await em.execute(
    `select d.id, d.event_id, d.payload, d.status, d.attempt_count, d.next_attempt_at,
            e.id as endpoint_id, e.organization_id, e.environment, e.url, e.secret_sealed, e.previous_secret_sealed,
            e.previous_secret_expires_at, e.rate_limit_per_second, e.disabled_at, e.disabled_reason, e.failing_since
       from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
      where d.id in (${deliveryIds.map(() => '?').join(', ')})`,
    deliveryIds,
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return deliveryIds.map((id) => {
    const row = byId.get(id);
    return row ? toDelivery(row) : null;
  });
}

function toDelivery(row: Row): DeliveryToSend {
  return {
    id: row.id,
    eventId: row.event_id,
    payload: typeof row.payload === 'string' ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload,
    status: row.status,
    attemptCount: Number(row.attempt_count),
    nextAttemptAt: dateOrNull(row.next_attempt_at),
    endpoint: {
      id: row.endpoint_id,
      orgId: row.organization_id,
      environment: row.environment,
      url: row.url,
      secretSealed: row.secret_sealed,
      previousSecretSealed: row.previous_secret_sealed,
      previousSecretExpiresAt: dateOrNull(row.previous_secret_expires_at),
      rateLimitPerSecond: row.rate_limit_per_second === null ? null : Number(row.rate_limit_per_second),
      disabledAt: dateOrNull(row.disabled_at),
      disabledReason: row.disabled_reason,
      failingSince: dateOrNull(row.failing_since),
    },
  };
}

function dateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : new Date(value);
}
