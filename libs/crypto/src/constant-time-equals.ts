import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets without leaking where they differ. Both sides are hashed
 * first so that unequal lengths take the same time as equal ones.
 */
export function constantTimeEquals(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}
