import { randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * The API key wire format (SPEC §4):
 *
 *   sk_{env}_ + 32 random base62 characters + 6-character checksum
 *
 * The checksum is zlib's CRC-32 of everything before it (prefix included), in
 * base62 (0-9A-Za-z), most significant digit first, left-padded with 0. It lets a
 * typo'd or made-up key be refused with no I/O at all, and lets secret scanners
 * recognise a leaked key with few false positives (as GitHub's tokens do).
 * A signing key's public identifier has the same shape with `pk_`.
 * DO NOT CHANGE: keys in customers' hands are in this format.
 */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_BODY_LENGTH = 32;
export const API_KEY_CHECKSUM_LENGTH = 6;

export const ApiKeyKind = { Secret: 'sk', Public: 'pk' } as const;
export type ApiKeyKind = (typeof ApiKeyKind)[keyof typeof ApiKeyKind];

export const KeyEnvironment = { Test: 'test', Live: 'live' } as const;
export type KeyEnvironment = (typeof KeyEnvironment)[keyof typeof KeyEnvironment];

const FORMAT = /^(?:sk|pk)_(?:test|live)_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$/;

export interface ParsedApiKey {
  kind: ApiKeyKind;
  environment: KeyEnvironment;
  /** `sk_live_`: shown in lists and masks. */
  prefix: string;
  last4: string;
}

export function checksumOf(payload: string): string {
  let value = crc32(payload);
  let digits = '';
  while (value > 0) {
    digits = BASE62[value % 62] + digits;
    value = Math.floor(value / 62);
  }
  return digits.padStart(API_KEY_CHECKSUM_LENGTH, '0');
}

export function generateApiKey(environment: KeyEnvironment, kind: ApiKeyKind = ApiKeyKind.Secret): string {
  let body = '';
  for (let i = 0; i < API_KEY_BODY_LENGTH; i += 1) body += BASE62[randomInt(62)];
  const payload = `${kind}_${environment}_${body}`;
  return payload + checksumOf(payload);
}

/** `sk_` or `pk_`, `test_` or `live_`: the prefix always has this length. */
const PREFIX_LENGTH = 'sk_test_'.length;
const KIND_LENGTH = 'sk'.length;

/**
 * Parses and checks a presented key; null when its shape or checksum is wrong
 * (answer MALFORMED, no lookup). Runs on every check, so it slices by the fixed
 * layout FORMAT has just vouched for rather than building capture groups.
 */
export function parseApiKey(value: string): ParsedApiKey | null {
  if (!FORMAT.test(value)) return null;
  const checksumStart = value.length - API_KEY_CHECKSUM_LENGTH;
  if (checksumOf(value.slice(0, checksumStart)) !== value.slice(checksumStart)) return null;
  const prefix = value.slice(0, PREFIX_LENGTH);
  return {
    kind: prefix.slice(0, KIND_LENGTH) as ApiKeyKind,
    environment: prefix.slice(KIND_LENGTH + 1, PREFIX_LENGTH - 1) as KeyEnvironment,
    prefix,
    last4: value.slice(-4),
  };
}

/** `sk_live_••••••••3f9a`: enough to recognise a key in a list, useless to an attacker. */
export function maskApiKey(prefix: string, last4: string): string {
  return `${prefix}••••••••${last4}`;
}
