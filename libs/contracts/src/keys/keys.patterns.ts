/**
 * Redis-transport patterns served by key-issuer. Wire contract between services:
 * DO NOT RENAME a pattern a deployed auth-check may still call.
 */
export const KeysPattern = {
  /** auth-check's cache miss: find a key by the hash of the presented secret or by its public key. */
  Lookup: 'keys.lookup',
  Get: 'keys.get',
} as const;
export type KeysPattern = (typeof KeysPattern)[keyof typeof KeysPattern];

/**
 * Pub/sub channel (after REDIS_PREFIX) on which every key change is announced, so
 * auth-check instances drop their cached copy at once. Payload: KEY_CHANGED_NOTICE (keys.messages.ts).
 */
export const KEY_CHANGED_CHANNEL = 'keys:changed';
