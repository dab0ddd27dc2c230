import { randomBytes } from 'node:crypto';

import { webhookHeaders } from '@latchkey/crypto';

import { verifyWebhook, WebhookVerificationError } from './webhooks';

const secret = () => `whsec_${randomBytes(24).toString('base64')}`;

describe(verifyWebhook.name, () => {
  const event = {
    id: 'evt_1',
    type: 'api_key.created',
    created_at: '2026-12-06T12:00:00.000Z',
    org_id: 'org_1',
    environment: 'test',
    data: { key_id: 'key_1' },
  };
  const payload = JSON.stringify(event);
  const now = new Date('2026-12-06T12:00:00Z');
  const nowSeconds = Math.floor(now.getTime() / 1000);

  it('answers the event of a delivery signed as the usage worker signs it', () => {
    const current = secret();
    const headers = webhookHeaders('evt_1', payload, [current], now);
    expect(verifyWebhook({ payload, headers, secret: current, nowSeconds })).toEqual(event);
    expect(verifyWebhook({ payload: Buffer.from(payload), headers: new Headers(headers), secret: current, nowSeconds })).toEqual(event);
  });

  it('takes either secret during a rotation', () => {
    const [old, next] = [secret(), secret()];
    const signedByOld = webhookHeaders('evt_1', payload, [old], now);
    const signedByBoth = webhookHeaders('evt_1', payload, [next, old], now);
    expect(verifyWebhook({ payload, headers: signedByOld, secrets: [next, old], nowSeconds }).id).toBe('evt_1');
    expect(verifyWebhook({ payload, headers: signedByBoth, secret: next, nowSeconds }).id).toBe('evt_1');
  });

  function failure(run: () => unknown): string {
    try {
      run();
    } catch (error) {
      if (error instanceof WebhookVerificationError) return error.reason;
      throw error;
    }
    throw new Error('verified');
  }

  it('refuses a wrong secret, a changed body, a stale timestamp and missing headers, saying which', () => {
    const current = secret();
    const headers = webhookHeaders('evt_1', payload, [current], now);
    expect(failure(() => verifyWebhook({ payload, headers, secret: secret(), nowSeconds }))).toBe('no_matching_signature');
    expect(failure(() => verifyWebhook({ payload: payload.replace('key_1', 'key_2'), headers, secret: current, nowSeconds }))).toBe(
      'no_matching_signature',
    );
    expect(failure(() => verifyWebhook({ payload, headers, secret: current, nowSeconds: nowSeconds + 301 }))).toBe('stale_timestamp');
    expect(failure(() => verifyWebhook({ payload, headers: {}, secret: current, nowSeconds }))).toBe('missing_headers');
    expect(failure(() => verifyWebhook({ payload, headers, secret: 'not-a-whsec', nowSeconds }))).toBe('no_matching_signature');
  });

  it('refuses a signed body that is not an event', () => {
    const current = secret();
    const headers = webhookHeaders('evt_1', '[1]', [current], now);
    expect(failure(() => verifyWebhook({ payload: '[1]', headers, secret: current, nowSeconds }))).toBe('invalid_payload');
  });
});
