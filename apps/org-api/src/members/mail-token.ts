import { generateOpaqueToken, sha256Hex } from '@latchkey/crypto';

/**
 * A single-use token mailed to someone: 32 random bytes behind a readable prefix.
 * Only the hash is stored and tokens are found by it, so a leaked table opens nothing.
 */
export function newMailToken(prefix: 'lkv_' | 'lki_' | 'lkr_'): { token: string; hash: string } {
  const token = generateOpaqueToken(prefix);
  return { token, hash: sha256Hex(token) };
}

export function hashMailToken(token: string): string {
  return sha256Hex(token);
}
