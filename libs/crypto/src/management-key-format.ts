import { randomInt } from 'node:crypto';

import { API_KEY_CHECKSUM_LENGTH, BASE62, checksumOf } from './api-key-format';

/**
 * The management key wire format (docs/api-conventions.md#management-keys):
 *
 *   lk_mgmt_ + 32 random base62 characters + 6-character checksum
 *
 * The checksum is the API keys' one (CRC-32 of everything before it, in base62), so a
 * typo'd or made-up token is refused with no I/O and a secret scanner can match
 * `lk_mgmt_[0-9A-Za-z]{38}` and confirm the checksum with few false positives.
 * 32 base62 characters are about 190 bits: no token is guessed, however cheap a refusal.
 * DO NOT CHANGE: tokens in customers' scripts are in this format.
 */
export const MANAGEMENT_KEY_PREFIX = 'lk_mgmt_';
export const MANAGEMENT_KEY_BODY_LENGTH = 32;
export const MANAGEMENT_KEY_LENGTH = MANAGEMENT_KEY_PREFIX.length + MANAGEMENT_KEY_BODY_LENGTH + API_KEY_CHECKSUM_LENGTH;

const FORMAT = /^lk_mgmt_[0-9A-Za-z]{38}$/;

export function generateManagementKey(): string {
  let body = '';
  for (let i = 0; i < MANAGEMENT_KEY_BODY_LENGTH; i += 1) body += BASE62[randomInt(62)];
  const payload = MANAGEMENT_KEY_PREFIX + body;
  return payload + checksumOf(payload);
}

/** Whether the value has the management key layout: what the access guard routes on. */
export function looksLikeManagementKey(value: string): boolean {
  return value.startsWith(MANAGEMENT_KEY_PREFIX);
}

/** Whether the value is a management key with a correct checksum (no lookup needed to refuse one). */
export function isWellFormedManagementKey(value: string): boolean {
  if (!FORMAT.test(value)) return false;
  const checksumAt = value.length - API_KEY_CHECKSUM_LENGTH;
  return checksumOf(value.slice(0, checksumAt)) === value.slice(checksumAt);
}
