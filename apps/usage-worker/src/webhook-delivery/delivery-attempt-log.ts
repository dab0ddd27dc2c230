import { EntityManager } from '@mikro-orm/postgresql';

import { DeliveryStatus } from '@latchkey/db';

/** One HTTP attempt (or a refusal to send), as the delivery log shows it. */
export interface AttemptEntry {
  deliveryId: string;
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
}

/** What the attempt makes of its delivery. `attemptCount` is left as it is when omitted (nothing was sent). */
export interface DeliveryChange {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  attemptCount?: number;
}

/**
 * What the attempt says about its endpoint's health: a success ends a run of failures
 * (failing_since = null), a failure starts one if none is running. Each is a write only
 * on that transition, so a burst of successes (or failures) to one endpoint never
 * queues on its row lock.
 */
export const EndpointHealth = { Succeeded: 'succeeded', Failed: 'failed', Unchanged: 'unchanged' } as const;
export type EndpointHealth = (typeof EndpointHealth)[keyof typeof EndpointHealth];

/**
 * Records an attempt in one statement (one round trip, atomic without a transaction):
 * the attempt row, the delivery's new state and the endpoint's health, as
 * data-modifying CTEs of one UPDATE. Postgres runs each CTE exactly once, whether or
 * not the main statement reads it.
 */
export async function recordAttempt(
  em: EntityManager,
  endpointId: string,
  attempt: AttemptEntry,
  change: DeliveryChange,
  health: EndpointHealth,
): Promise<void> {
  const params: unknown[] = [
    attempt.deliveryId,
    attempt.attemptedAt,
    attempt.statusCode,
    attempt.durationMs,
    attempt.responseBody,
    attempt.error,
  ];
  let healthCte = '';
  if (health === EndpointHealth.Succeeded) {
    healthCte = `, health as (update webhook_endpoints set failing_since = null where id = ? and failing_since is not null)`;
    params.push(endpointId);
  } else if (health === EndpointHealth.Failed) {
    healthCte = `, health as (update webhook_endpoints set failing_since = ? where id = ? and failing_since is null)`;
    params.push(attempt.attemptedAt, endpointId);
  }

  const sets = ['status = ?', 'next_attempt_at = ?', 'updated_at = ?'];
  params.push(change.status, change.nextAttemptAt, attempt.attemptedAt);
  if (change.attemptCount !== undefined) {
    sets.push('attempt_count = ?', 'last_attempt_at = ?', 'last_status_code = ?');
    params.push(change.attemptCount, attempt.attemptedAt, attempt.statusCode);
  }
  params.push(attempt.deliveryId);

  await em.execute(
    `with attempt as (
       insert into webhook_delivery_attempts (delivery_id, attempted_at, status_code, duration_ms, response_body, error)
       values (?, ?, ?, ?, ?, ?)
     )${healthCte}
     update webhook_deliveries set ${sets.join(', ')} where id = ?`,
    params,
  );
}
