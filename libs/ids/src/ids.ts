import { randomFillSync } from 'node:crypto';

import { monotonicFactory, ulid } from 'ulid';

/**
 * Public id prefixes (docs/api-conventions.md#requests-and-answers). The prefix says
 * what an id points at; the ULID after it sorts by creation time, which is what
 * cursor pagination relies on. DO NOT CHANGE existing values: they are stored and
 * handed to customers.
 */
export const IdPrefix = {
  Organization: 'org',
  User: 'usr',
  Membership: 'mem',
  Invitation: 'inv',
  Session: 'ses',
  ApiKey: 'key',
  WebhookEndpoint: 'whe',
  Event: 'evt',
  Delivery: 'del',
  Alert: 'alr',
  Audit: 'aud',
  Request: 'req',
  QuarantinedUsageEvent: 'qev',
  UserToken: 'utk',
  ManagementKey: 'mgk',
} as const;
export type IdPrefix = (typeof IdPrefix)[keyof typeof IdPrefix];

/**
 * ulid's default random source asks the OS for fresh bytes for every character;
 * every request gets an id, so that dominated the verify hot path. This draws the
 * same cryptographic bytes from a pool refilled 4 KiB at a time, one system call
 * for many ids (figures in docs/performance.md#results-log).
 */
function pooledRandom(): () => number {
  const pool = Buffer.alloc(4096);
  let offset = pool.length;
  return () => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    return pool[offset++] / 256;
  };
}

const random = pooledRandom();
const nextUlid = monotonicFactory(random);

/** A bare ULID (no prefix), increasing within this process: batch ids and the like. */
export function newUlid(): string {
  return nextUlid();
}

/**
 * A ULID of the given time (epoch ms), for ids that sort by when something happened
 * rather than when the id was made. Not monotonic: two ids of one millisecond differ
 * in their random part only.
 */
export function ulidAt(timeMs: number): string {
  if (!isUlidTime(timeMs)) throw new RangeError(`no ULID for time ${timeMs}`);
  return ulid(timeMs, random);
}

/** A ULID's first 10 characters are its time (epoch ms in Crockford base 32); the other 16, its random part. */
const ULID_TIME_CHARS = 10;
const ULID_RANDOM_CHARS = 16;

/**
 * The lowest ULID of the given time (epoch ms): its random part all zeros. Ids sort by
 * their ULID, so `id < '<prefix>_' || ulidLowerBoundAt(t)` holds for exactly the ids of
 * that prefix made before `t`, and a primary key range finds them with no index of its own.
 * Throws a RangeError for a time `ulidAt` cannot encode (0 or less, fractions, NaN, past
 * 48 bits).
 */
export function ulidLowerBoundAt(timeMs: number): string {
  return ulidAt(timeMs).slice(0, ULID_TIME_CHARS) + '0'.repeat(ULID_RANDOM_CHARS);
}

/** A ULID's time is 48 bits of epoch ms. */
const ULID_TIME_MAX = 2 ** 48 - 1;

/**
 * Whether `ulidAt` can encode this time: whole milliseconds after 1970 (ulid reads 0
 * or NaN as "now") and before the year 10889 (ulid throws past 48 bits). For callers
 * that must sort out such times before they reach it.
 */
export function isUlidTime(timeMs: number): boolean {
  return Number.isInteger(timeMs) && timeMs > 0 && timeMs <= ULID_TIME_MAX;
}

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid()}`;
}

const ID_PATTERN = /^([a-z]{3})_[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `value` looks like an id of this kind; lets handlers answer 404 for junk without a query. */
export function isIdOf(prefix: IdPrefix, value: string): boolean {
  const match = ID_PATTERN.exec(value);
  return match !== null && match[1] === prefix;
}
