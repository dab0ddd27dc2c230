import { randomBytes } from 'node:crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** 32 bytes: inside the 24–64 bytes Standard Webhooks asks for. */
const SECRET_BYTES = 32;

/**
 * A signing secret in the Standard Webhooks form: `whsec_` + base64 (standard, padded)
 * of random bytes. The `standardwebhooks` and `svix` verifiers take it as it is and
 * use the decoded bytes as the HMAC-SHA256 key.
 */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}
