import Ajv from 'ajv';

import { EVENT_AJV_OPTIONS, EVENT_DATA_CONTRACTS, EventDataOf, webhookEventSchema } from './event-payloads';
import { EventType } from './event-types';

const ajv = new Ajv(EVENT_AJV_OPTIONS);
const EVENT_ID = 'evt_01J0000000000000000000000A';
const AT = '2026-12-06T10:00:00.000Z';

function errorsOf(type: EventType, payload: unknown): string[] {
  const validate = ajv.compile(webhookEventSchema(type) as object);
  return validate(payload) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
}

function envelope<T extends EventType>(type: T, data: EventDataOf<T>): Record<string, unknown> {
  return { id: EVENT_ID, type, created_at: AT, org_id: 'org_01J0000000000000000000000A', environment: 'test', data };
}

const EXPIRED: EventDataOf<typeof EventType.ApiKeyExpired> = {
  key_id: 'key_x',
  name: 'ci',
  prefix: 'sk_test_',
  last4: '3f9a',
  expires_at: AT,
};

describe('webhook event payload schemas', () => {
  it.each(Object.values(EventType))('%s has a data contract whose payload schema compiles under strict Ajv', (type) => {
    expect(EVENT_DATA_CONTRACTS[type]).toBeDefined();
    expect(() => ajv.compile(webhookEventSchema(type) as object)).not.toThrow();
  });

  it('takes an event as the relay sends it', () => {
    expect(errorsOf(EventType.ApiKeyExpired, envelope(EventType.ApiKeyExpired, EXPIRED))).toEqual([]);
    expect(errorsOf(EventType.WebhookTest, { ...envelope(EventType.WebhookTest, { endpoint_id: 'whe_x' }), environment: null })).toEqual(
      [],
    );
  });

  it.each<[string, Record<string, unknown>]>([
    ['another type in the envelope', { ...envelope(EventType.ApiKeyExpired, EXPIRED), type: 'api_key.expiring' }],
    ['a field the schema does not name', envelope(EventType.ApiKeyExpired, { ...EXPIRED, secret: 'sk_test_x' } as never)],
    ['a missing field', envelope(EventType.ApiKeyExpired, { ...EXPIRED, expires_at: undefined } as never)],
    ['a timestamp that is not ISO 8601', envelope(EventType.ApiKeyExpired, { ...EXPIRED, expires_at: 'tomorrow' })],
    ['an event id of another kind', { ...envelope(EventType.ApiKeyExpired, EXPIRED), id: 'key_01J0000000000000000000000A' }],
    ['an unknown environment', { ...envelope(EventType.ApiKeyExpired, EXPIRED), environment: 'staging' }],
  ])('refuses %s', (_, payload) => {
    expect(errorsOf(EventType.ApiKeyExpired, payload)).not.toEqual([]);
  });

  it('types each data as its schema says', () => {
    // @ts-expect-error days_left is required on api_key.expiring
    const expiring: EventDataOf<typeof EventType.ApiKeyExpiring> = { ...EXPIRED };
    // @ts-expect-error a reason the schema does not list
    const disabled: EventDataOf<typeof EventType.WebhookEndpointDisabled> = { endpoint_id: 'whe_x', url: 'https://x', reason: 'tired' };
    expect([expiring, disabled]).toHaveLength(2);
  });
});
