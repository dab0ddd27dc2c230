import { randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import { checkWebhookSignature, webhookHeaders, webhookSignature } from './webhook-signature';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

describe('webhook signatures', () => {
  const body = '{"type":"key.revoked","data":{"id":"key_1"}}';
  const now = new Date('2026-01-01T00:00:00Z');
  const nowSeconds = Math.floor(now.getTime() / 1000);

  it('signs as the Standard Webhooks reference library verifies', () => {
    const secret = newSecret();
    const fresh = webhookHeaders('evt_1', body, [secret]);
    expect(new Webhook(secret).verify(body, fresh)).toEqual(JSON.parse(body));
  });

  it('accepts a delivery signed by either secret of a rotation', () => {
    const [previous, current] = [newSecret(), newSecret()];
    const signatureHeader = webhookSignature('evt_1', nowSeconds, body, [current, previous]);
    const delivery = { messageId: 'evt_1', timestamp: String(nowSeconds), body, signatureHeader };
    expect(checkWebhookSignature(delivery, [previous], nowSeconds)).toBeNull();
    expect(checkWebhookSignature(delivery, [current], nowSeconds)).toBeNull();
    expect(checkWebhookSignature(delivery, [newSecret()], nowSeconds)).toBe('no_matching_signature');
  });

  it('refuses a changed body, a stale timestamp and missing headers', () => {
    const secret = newSecret();
    const signatureHeader = webhookSignature('evt_1', nowSeconds, body, [secret]);
    const delivery = { messageId: 'evt_1', timestamp: String(nowSeconds), body, signatureHeader };
    expect(checkWebhookSignature({ ...delivery, body: `${body} ` }, [secret], nowSeconds)).toBe('no_matching_signature');
    expect(checkWebhookSignature(delivery, [secret], nowSeconds + 301)).toBe('stale_timestamp');
    expect(checkWebhookSignature({ ...delivery, signatureHeader: '' }, [secret], nowSeconds)).toBe('missing_headers');
    expect(checkWebhookSignature({ ...delivery, timestamp: 'soon' }, [secret], nowSeconds)).toBe('missing_headers');
  });
});
