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

/** One attempt to record with what it makes of its delivery and endpoint. */
export interface AttemptRecord {
  endpointId: string;
  attempt: AttemptEntry;
  change: DeliveryChange;
  health: EndpointHealth;
}

/**
 * Records one attempt that leaves its endpoint's health as it is (see recordAttempts):
 * the form used inside the transaction that disables an endpoint.
 */
export async function recordAttempt(em: EntityManager, endpointId: string, attempt: AttemptEntry, change: DeliveryChange): Promise<void> {
  await recordAttempts(em, [{ endpointId, attempt, change, health: EndpointHealth.Unchanged }]);
}

/**
 * Records attempts in one statement (one round trip, atomic without a transaction):
 * the attempt rows, their deliveries' new state and their endpoints' health, as
 * data-modifying CTEs of one UPDATE. Postgres runs each CTE exactly once, whether or
 * not the main statement reads it. A statement may change a row once only, so each
 * endpoint's health is folded first into the one change its attempts, in time
 * order, make of it (see endpointHealthChanges).
 */
export async function recordAttempts(em: EntityManager, records: AttemptRecord[]): Promise<void> {
  if (records.length === 0) return;
  const params: unknown[] = [];
  const rows = records.map(({ attempt, change }) => {
    // attempt_count null: nothing was sent, the delivery's count and last attempt stay as they are.
    params.push(
      attempt.deliveryId,
      attempt.attemptedAt,
      attempt.statusCode,
      attempt.durationMs,
      attempt.responseBody,
      attempt.error,
      change.status,
      change.nextAttemptAt,
      change.attemptCount ?? null,
    );
    return '(?::text, ?::timestamptz, ?::int, ?::int, ?::varchar, ?::text, ?::text, ?::timestamptz, ?::int)';
  });
  const health = endpointHealthChanges(records);
  let healthCte = '';
  if (health.length > 0) {
    healthCte = `, health (endpoint_id, failing_since, mode) as (values ${health.map(() => '(?::text, ?::timestamptz, ?::text)').join(', ')}),
     healthy as (
       update webhook_endpoints e set failing_since = h.failing_since from health h
        where e.id = h.endpoint_id
          and (h.mode = 'restart' or (h.mode = 'heal' and e.failing_since is not null) or (h.mode = 'start' and e.failing_since is null))
     )`;
    for (const change of health) params.push(change.endpointId, change.failingSince, change.mode);
  }

  await em.execute(
    `with v (delivery_id, attempted_at, status_code, duration_ms, response_body, error, status, next_attempt_at, attempt_count) as (
       values ${rows.join(', ')}
     ),
     attempt as (
       insert into webhook_delivery_attempts (delivery_id, attempted_at, status_code, duration_ms, response_body, error)
       -- Only for deliveries still there: one deleted with its endpoint mid-send must not fail the others' batch.
       select v.delivery_id, v.attempted_at, v.status_code, v.duration_ms, v.response_body, v.error
         from v join webhook_deliveries d on d.id = v.delivery_id
     )${healthCte}
     update webhook_deliveries d
        set status = v.status, next_attempt_at = v.next_attempt_at, updated_at = v.attempted_at,
            attempt_count = coalesce(v.attempt_count, d.attempt_count),
            last_attempt_at = case when v.attempt_count is null then d.last_attempt_at else v.attempted_at end,
            last_status_code = case when v.attempt_count is null then d.last_status_code else v.status_code end
       from v where d.id = v.delivery_id`,
    params,
  );
}

/** What a batch of attempts does to one endpoint's failing_since. */
export interface EndpointHealthChange {
  endpointId: string;
  /** heal: set null if set; start: set if null; restart: set whatever it was (a success earlier in the batch ended the old run). */
  mode: 'heal' | 'start' | 'restart';
  failingSince: Date | null;
}

/**
 * Folds the attempts of a batch, per endpoint and in time order, into one change
 * each, equal to applying them one by one: a success clears failing_since, a failure
 * sets it when no run is going. The last success of the batch decides: none → the
 * first failure starts a run if none is going; last attempt a success → heal; a
 * success followed by failures → a new run from the first failure after it.
 */
export function endpointHealthChanges(records: AttemptRecord[]): EndpointHealthChange[] {
  const byEndpoint = new Map<string, AttemptRecord[]>();
  for (const record of records) {
    if (record.health === EndpointHealth.Unchanged) continue;
    const list = byEndpoint.get(record.endpointId) ?? [];
    list.push(record);
    byEndpoint.set(record.endpointId, list);
  }
  const changes: EndpointHealthChange[] = [];
  for (const [endpointId, list] of byEndpoint) {
    list.sort((a, b) => a.attempt.attemptedAt.getTime() - b.attempt.attemptedAt.getTime());
    let lastSuccess = -1;
    list.forEach((record, index) => {
      if (record.health === EndpointHealth.Succeeded) lastSuccess = index;
    });
    const failuresAfter = list.slice(lastSuccess + 1);
    if (failuresAfter.length === 0) changes.push({ endpointId, mode: 'heal', failingSince: null });
    else changes.push({ endpointId, mode: lastSuccess < 0 ? 'start' : 'restart', failingSince: failuresAfter[0].attempt.attemptedAt });
  }
  return changes;
}
