import { monotonicFactory } from 'ulid';

/**
 * Public id prefixes (SPEC §2). The prefix says what an id points at; the ULID
 * after it sorts by creation time, which is what cursor pagination relies on.
 * DO NOT CHANGE existing values: they are stored and handed to customers.
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
} as const;
export type IdPrefix = (typeof IdPrefix)[keyof typeof IdPrefix];

const nextUlid = monotonicFactory();

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid()}`;
}

const ID_PATTERN = /^([a-z]{3})_[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `value` looks like an id of this kind; lets handlers answer 404 for junk without a query. */
export function isIdOf(prefix: IdPrefix, value: string): boolean {
  const match = ID_PATTERN.exec(value);
  return match !== null && match[1] === prefix;
}
