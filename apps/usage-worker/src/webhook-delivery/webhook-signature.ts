import { createHmac } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/**
 * The Standard Webhooks signature: `v1,<base64 HMAC-SHA256(key, "${id}.${timestamp}.${body}")>`,
 * where the key is the base64 after `whsec_`. Several secrets (a rotation's overlap)
 * give several signatures separated by spaces; verifiers accept any one of them.
 */
export function webhookSignature(messageId: string, timestamp: number, body: string, secrets: readonly string[]): string {
  return secrets
    .map((secret) => {
      const digest = createHmac('sha256', signingKey(secret)).update(`${messageId}.${timestamp}.${body}`).digest('base64');
      return `v1,${digest}`;
    })
    .join(' ');
}

export function signingKey(secret: string): Buffer {
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
