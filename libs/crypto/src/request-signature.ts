import { hmacSha256Hex, sha256Hex } from './hash-token';

/**
 * The body hash of a request without a body: sha256Hex(''). Callers hash the raw
 * body bytes with `sha256Hex` and send this value when there is none. Auth-check
 * and the SDK (packages/sdk) share this file, so both sign the same payload.
 */
export const EMPTY_BODY_SHA256 = sha256Hex('');

/**
 * A signature stays good this long after its timestamp (the 5-minute tolerance of
 * docs/api-conventions.md#checks).
 */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * A timestamp may run at most this far ahead of the server's clock: enough for a
 * caller's clock drifting a little, and no more, because a signature dated ahead
 * stays good for the tolerance after that date — a caller that could date one an
 * hour ahead would hold a credential good for an hour and five minutes.
 */
export const SIGNATURE_MAX_FUTURE_SECONDS = 60;

/** The replay guard outlives a signature's last good second by this much, so clock jitter cannot reopen it. */
export const REPLAY_GUARD_MARGIN_SECONDS = 60;

/** Whether a signature dated `timestamp` may be accepted at `nowSeconds` (both Unix seconds). */
export function isSignatureTimely(timestamp: number, nowSeconds: number): boolean {
  return timestamp >= nowSeconds - SIGNATURE_TOLERANCE_SECONDS && timestamp <= nowSeconds + SIGNATURE_MAX_FUTURE_SECONDS;
}

/**
 * Unix seconds until which the replay guard of a signature dated `timestamp` must
 * hold. It is counted from the signature's own date, not from when it was first
 * seen: a signature dated ahead of the server stays good for the whole tolerance
 * after that date, and a guard counted from now would lapse while it is still good.
 */
export function replayGuardExpiresAt(timestamp: number): number {
  return timestamp + SIGNATURE_TOLERANCE_SECONDS + REPLAY_GUARD_MARGIN_SECONDS;
}

export interface SignedRequest {
  /** Unix seconds. */
  timestamp: number;
  method: string;
  /** The path with its query string, exactly as sent. */
  path: string;
  /** Lower-case hex SHA-256 of the raw body (EMPTY_BODY_SHA256 when there is none). */
  bodySha256: string;
}

/** What is signed: `t \n METHOD \n PATH \n sha256hex(body)`. */
export function signaturePayload(request: SignedRequest): string {
  return `${request.timestamp}\n${request.method.toUpperCase()}\n${request.path}\n${request.bodySha256.toLowerCase()}`;
}

/** The `x-signature` header a caller sends: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, payload)>`. */
export function signRequest(secret: string, request: SignedRequest): string {
  return `t=${request.timestamp},v1=${hmacSha256Hex(secret, signaturePayload(request))}`;
}

export interface ParsedSignatureHeader {
  timestamp: number;
  /** Lower-case hex; several while a caller signs with both its current and previous secret. */
  signatures: string[];
}

const MAX_HEADER_LENGTH = 1_024;
const MAX_SIGNATURES = 5;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Reads `t=…,v1=…[,v1=…]`. Unknown schemes are skipped (room for a v2); null when
 * there is no usable timestamp or v1 value. Bounded, since the header is the caller's.
 */
export function parseSignatureHeader(header: string | undefined): ParsedSignatureHeader | null {
  if (!header || header.length > MAX_HEADER_LENGTH) return null;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const name = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (name === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (name === 'v1') {
      const signature = value.toLowerCase();
      if (HEX_SHA256.test(signature) && signatures.length < MAX_SIGNATURES) signatures.push(signature);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return null;
  return { timestamp, signatures };
}
