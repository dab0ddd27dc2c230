import { EMPTY_BODY_SHA256, sha256Hex, signRequest as signPayload } from '@latchkey/crypto';

export interface SignRequestInput {
  /** The signing key's secret (shown once when it was created or rolled). */
  secret: string;
  method: string;
  /** The path with its query string, exactly as sent: `/v1/orders?limit=5`. */
  path: string;
  /** The raw body as sent; none for a request without one. */
  body?: string | Uint8Array;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
}

export interface SignedRequestHeaders {
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
  'x-signature': string;
  /** The body's SHA-256, hex: what GET /v1/check reads the body hash from. */
  'x-content-sha256': string;
}

/**
 * The headers a caller holding a signing key (seed 003) adds to a request, besides
 * `x-api-key: pk_…`: signed exactly as auth-check verifies (the same libs/crypto code).
 */
export function signRequest(input: SignRequestInput): SignedRequestHeaders {
  const bodySha256 =
    input.body === undefined || input.body.length === 0
      ? EMPTY_BODY_SHA256
      : sha256Hex(typeof input.body === 'string' ? input.body : Buffer.from(input.body));
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'x-signature': signPayload(input.secret, { timestamp, method: input.method, path: input.path, bodySha256 }),
    'x-content-sha256': bodySha256,
  };
}
