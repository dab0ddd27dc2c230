import Ajv from 'ajv';

import { EVENT_AJV_OPTIONS, EVENT_DATA_CONTRACTS, webhookEventSchema } from '@latchkey/contracts';

import { EVENT_TYPE_DESCRIPTIONS, EVENT_TYPES } from './webhook-event-catalogue';

describe('webhook event catalogue', () => {
  const ajv = new Ajv(EVENT_AJV_OPTIONS);

  it.each(EVENT_TYPES)('%s, which endpoints may subscribe to, has a payload schema and a description', (type) => {
    expect(EVENT_DATA_CONTRACTS[type]?.schema).toEqual(expect.objectContaining({ type: 'object' }));
    expect(() => ajv.compile(webhookEventSchema(type) as object)).not.toThrow();
    expect(EVENT_TYPE_DESCRIPTIONS[type]).toEqual(expect.any(String));
  });

  it('has no payload schema for a type endpoints cannot subscribe to', () => {
    expect(Object.keys(EVENT_DATA_CONTRACTS).sort()).toEqual([...EVENT_TYPES].sort());
  });
});
