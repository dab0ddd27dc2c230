import { createHash, createHmac, hash } from 'node:crypto';

/**
 * SHA-256 hex: of a high-entropy token (session tokens: enough, since they cannot be
 * guessed), of a request body, of a presented key for auth-check's memo. It runs on
 * the verify hot path, so it uses crypto.hash (one call, no hash object). Every Node
 * that `engines` allows has it (it came in 20.12); the fallback keeps the module
 * loadable on an older runtime started against the engines check.
 */
export const sha256Hex: (value: string | Buffer) => string =
  typeof hash === 'function' ? (value) => hash('sha256', value, 'hex') : (value) => createHash('sha256').update(value).digest('hex');

/** HMAC-SHA-256 hex under a server secret: a database leak alone cannot confirm a guess. */
export function hmacSha256Hex(secret: string, value: string | Buffer): string {
  return createHmac('sha256', secret).update(value).digest('hex');
}
