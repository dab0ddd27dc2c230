import { generateOpaqueToken, sha256Hex } from '@latchkey/crypto';

/** Session tokens look like `lks_…` so a leaked one is recognisable; only the hash is stored. */
export const SESSION_TOKEN_PREFIX = 'lks_';

export function newSessionToken(): { token: string; hash: string } {
  const token = generateOpaqueToken(SESSION_TOKEN_PREFIX);
  return { token, hash: sha256Hex(token) };
}

export function hashSessionToken(token: string): string {
  return sha256Hex(token);
}

/** The bearer value of an Authorization header, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}
