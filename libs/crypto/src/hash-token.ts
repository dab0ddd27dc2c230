import { createHash, createHmac } from 'node:crypto';

/** SHA-256 hex of a high-entropy token (session tokens): enough, since they cannot be guessed. */
export function sha256Hex(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

/** HMAC-SHA-256 hex under a server secret: a database leak alone cannot confirm a guess. */
export function hmacSha256Hex(secret: string, value: string | Buffer): string {
  return createHmac('sha256', secret).update(value).digest('hex');
}
