import { randomInt } from 'node:crypto';
import * as zlib from 'node:zlib';

/**
 * The API key wire format (docs/api-conventions.md#api-keys):
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

/** What a well-formed key says about itself (the rest needs a lookup). */
export interface ParsedApiKey {
  readonly kind: ApiKeyKind;
  readonly environment: KeyEnvironment;
}

/** CRC-32 (IEEE, zlib's): a byte's worth of the polynomial division at a time. */
const CRC32_TABLE = Int32Array.from({ length: 256 }, (_, byte) => {
  let value = byte;
  for (let bit = 0; bit < 8; bit += 1) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
  return value;
});

/** zlib's CRC-32 of a string's UTF-8 bytes, computed in JavaScript: the same number as zlib.crc32. */
export function crc32Fallback(text: string): number {
  let crc = -1;
  for (const byte of Buffer.from(text, 'utf8')) crc = CRC32_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/**
 * zlib.crc32 is in Node from 20.15 and 22.2; the SDK (packages/sdk), which bundles this
 * file, runs on any Node 20, so an older one gets the same checksum from crc32Fallback.
 */
const crc32: (text: string) => number = typeof zlib.crc32 === 'function' ? zlib.crc32 : crc32Fallback;

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

const parsed = (kind: ApiKeyKind, environment: KeyEnvironment): ParsedApiKey => Object.freeze({ kind, environment });
/** The four answers parseApiKey can give, made once: it runs on every check. */
const SECRET_TEST = parsed(ApiKeyKind.Secret, KeyEnvironment.Test);
const SECRET_LIVE = parsed(ApiKeyKind.Secret, KeyEnvironment.Live);
const PUBLIC_TEST = parsed(ApiKeyKind.Public, KeyEnvironment.Test);
const PUBLIC_LIVE = parsed(ApiKeyKind.Public, KeyEnvironment.Live);
const CHECKSUM_START = 'sk_test_'.length + API_KEY_BODY_LENGTH;
const ENVIRONMENT_AT = 'sk_'.length;

/**
 * Parses and checks a presented key; null when its shape or checksum is wrong
 * (answer MALFORMED, no lookup). Runs on every check, so once FORMAT has vouched
 * for the layout it reads the checksum as a number and the prefix by its letters,
 * building no string but the one CRC-32 needs.
 */
export function parseApiKey(value: string): ParsedApiKey | null {
  if (!FORMAT.test(value)) return null;
  if (crc32(value.slice(0, CHECKSUM_START)) !== base62Value(value, CHECKSUM_START)) return null;
  const test = value[ENVIRONMENT_AT] === 't';
  if (value[0] === 'p') return test ? PUBLIC_TEST : PUBLIC_LIVE;
  return test ? SECRET_TEST : SECRET_LIVE;
}

/** The number written in base62 from `start` to the end of `text` (FORMAT has checked its digits). */
function base62Value(text: string, start: number): number {
  let value = 0;
  for (let index = start; index < text.length; index += 1) value = value * 62 + BASE62.indexOf(text[index]);
  return value;
}

/** `sk_live_••••••••3f9a`: enough to recognise a key in a list, useless to an attacker. */
export function maskApiKey(prefix: string, last4: string): string {
  return `${prefix}••••••••${last4}`;
}

/** Request headers as Node, Fastify and Express give them: lower-case names. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

function firstHeader(headers: HeaderBag, name: string): string | null {
  const value = headers[name];
  const first = typeof value === 'string' ? value : value?.[0];
  return first ? first : null;
}

/**
 * The key a caller presents, in any of the three forms of docs/api-conventions.md#api-keys:
 * `x-api-key: KEY`, `Authorization: Bearer KEY` or `Authorization: x-api-key KEY`; ''
 * when there is none (a MALFORMED verdict). Auth-check and the SDK's guard share it.
 */
export function presentedApiKey(headers: HeaderBag): string {
  const direct = firstHeader(headers, 'x-api-key');
  if (direct) return direct.trim();
  const authorization = firstHeader(headers, 'authorization');
  const match = authorization ? /^(?:bearer|x-api-key)\s+(\S+)\s*$/i.exec(authorization) : null;
  return match ? match[1] : '';
}
