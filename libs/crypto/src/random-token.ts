import { randomBytes } from 'node:crypto';

/**
 * An opaque bearer token: a readable prefix (so leaked tokens are recognisable)
 * and 32 random bytes in base64url. Only its hash is ever stored.
 */
export function generateOpaqueToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}
