import { createHmac } from 'node:crypto';

import { constantTimeEquals } from './constant-time-equals';

const SECRET_PREFIX = 'whsec_';

/**
 * A delivery is good this long either side of its timestamp (the Standard Webhooks
 * default), so a captured delivery cannot be replayed later.
 */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * The Standard Webhooks signature: `v1,<base64 HMAC-SHA256(key, "${id}.${timestamp}.${body}")>`,
 * where the key is the base64 after `whsec_`. Several secrets (a rotation's overlap)
 * give several signatures separated by spaces; verifiers accept any one of them.
 * The usage worker signs deliveries and the SDK (packages/sdk) checks them with this file.
 */
export function webhookSignature(messageId: string, timestamp: number, body: string, secrets: readonly string[]): string {
  return secrets.map((secret) => `v1,${webhookDigest(messageId, timestamp, body, secret)}`).join(' ');
}

function webhookDigest(messageId: string, timestamp: number, body: string, secret: string): string {
  return createHmac('sha256', webhookSigningKey(secret)).update(`${messageId}.${timestamp}.${body}`).digest('base64');
}

export function webhookSigningKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** The headers of one attempt; `webhook-id` is the event id, the same on every retry. */
export function webhookHeaders(messageId: string, body: string, secrets: readonly string[], now = new Date()): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'Latchkey-Webhooks/1.0',
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': webhookSignature(messageId, timestamp, body, secrets),
  };
}

export type WebhookSignatureFailure = 'missing_headers' | 'stale_timestamp' | 'no_matching_signature';

/**
 * Whether `signatureHeader` (space-separated `v1,<base64>` values) carries a signature
 * of this delivery by any of `secrets`: the receiver's current secret and, during a
 * rotation, the previous one. Null when it does, otherwise why not.
 */
export function checkWebhookSignature(
  delivery: { messageId: string; timestamp: string; body: string; signatureHeader: string },
  secrets: readonly string[],
  nowSeconds: number,
): WebhookSignatureFailure | null {
  const { messageId, timestamp, body, signatureHeader } = delivery;
  if (!messageId || !/^\d{1,12}$/.test(timestamp) || !signatureHeader) return 'missing_headers';
  const at = Number(timestamp);
  if (Math.abs(nowSeconds - at) > WEBHOOK_TOLERANCE_SECONDS) return 'stale_timestamp';
  const presented = signatureHeader
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => part.slice(3));
  for (const secret of secrets) {
    const expected = webhookDigest(messageId, at, body, secret);
    // Every candidate is compared, so the time taken does not say which secret matched.
    if (presented.some((value) => constantTimeEquals(value, expected))) return null;
  }
  return 'no_matching_signature';
}
