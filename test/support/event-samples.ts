import Ajv from 'ajv';

import { ApiKeyEventData, EVENT_AJV_OPTIONS, EventType, webhookEventSchema } from '@latchkey/contracts';
import { IdPrefix, newId } from '@latchkey/ids';

/**
 * The data of an api_key.* event as the key issuer writes it (a key's public view),
 * for specs that commit events through the outbox without issuing a key. `index`
 * names the key (`key <index>`), so a spec can tell the events of one batch apart.
 */
export function sampleApiKeyEventData(index: number): ApiKeyEventData {
  const at = new Date().toISOString();
  return {
    id: newId(IdPrefix.ApiKey),
    name: `key ${index}`,
    description: null,
    environment: 'test',
    prefix: 'sk_test_',
    masked: 'sk_test_••••••••3f9a',
    created_at: at,
    secret_rotated_at: at,
    created_by: newId(IdPrefix.User),
    owner_id: null,
    expires_at: null,
    last_used_at: null,
    status: 'active',
    revoked_at: null,
    disabled_at: null,
    permissions: [],
    restrictions: { ip_allowlist: [], referrers: [], endpoints: [] },
    rate_limit: null,
    quota: null,
    metadata: {},
    signing: false,
    public_key: null,
    updated_at: at,
  };
}

const ajv = new Ajv(EVENT_AJV_OPTIONS);

/**
 * Where a delivered webhook payload departs from its type's published schema
 * (`WebhookEvent.<type>` in the OpenAPI document); empty when it matches.
 */
export function webhookEventErrors(event: { type: EventType }): string[] {
  const validate = ajv.compile(webhookEventSchema(event.type) as object);
  if (validate(event)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
}

/**
 * Where an outbox row, sent as the relay sends it, departs from its type's published
 * schema; empty when it matches. For specs reading the events emitters really wrote.
 */
export function outboxEventErrors(row: {
  id: string;
  orgId: string;
  environment: string | null;
  type: string;
  data: Record<string, unknown>;
  createdAt: Date;
}): string[] {
  const envelope = {
    id: row.id,
    type: row.type as EventType,
    created_at: row.createdAt.toISOString(),
    org_id: row.orgId,
    environment: row.environment,
    data: row.data,
  };
  return webhookEventErrors(envelope).map((error) => `${row.type}: ${error}`);
}
