import { isIP } from 'node:net';

import { isPostgresText } from '@latchkey/db';
import { AppError, jsonSchemaParser } from '@latchkey/platform';

import { KeyCheckInput } from './key-verdict';

/** The body of `POST /v1/verify` and of the `auth.verify` message (SPEC §5). */
export interface VerifyKeyRequest {
  key: string;
  environment?: 'test' | 'live';
  permissions?: string[];
  ip?: string;
  referrer?: string;
  method?: string;
  path?: string;
  cost?: number;
  signature?: { timestamp: number; value: string; body_sha256: string };
}

export const VERIFY_KEY_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['key'],
  properties: {
    key: { type: 'string', maxLength: 200 },
    environment: { type: 'string', enum: ['test', 'live'] },
    permissions: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 200 } },
    ip: { type: 'string', maxLength: 100 },
    referrer: { type: 'string', maxLength: 2048 },
    // An HTTP method is a token (RFC 9110 §5.6.2).
    method: { type: 'string', minLength: 1, maxLength: 16, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
    path: { type: 'string', minLength: 1, maxLength: 4096 },
    cost: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    signature: {
      type: 'object',
      additionalProperties: false,
      required: ['timestamp', 'value', 'body_sha256'],
      properties: {
        timestamp: { type: 'integer', minimum: 0 },
        value: { type: 'string', maxLength: 1024 },
        body_sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
      },
    },
  },
} as const;

const parseVerifyKeyShape = jsonSchemaParser<VerifyKeyRequest>(VERIFY_KEY_REQUEST_SCHEMA, {
  method: 'method must be an HTTP method token',
});

/**
 * The body as a VerifyKeyRequest, or a VALIDATION_FAILED AppError (400 over HTTP,
 * `{code, message}` over RPC): a compiled schema, as a class-validator DTO on this
 * route cost ~47 % of the throughput (docs/decisions).
 *
 * What the check stores (ip, method, path in the usage event and request log) must
 * also be text Postgres accepts: a NUL or a lone surrogate in one check would make
 * Postgres refuse the whole usage batch it shares with other tenants' checks.
 */
export function parseVerifyKeyRequest(payload: unknown): VerifyKeyRequest {
  const body = parseVerifyKeyShape(payload);
  if (body.ip !== undefined && isIP(body.ip) === 0) {
    throw AppError.validation('ip must be an IPv4 or IPv6 address.', [{ field: 'ip', message: 'must be an IPv4 or IPv6 address' }]);
  }
  if (body.path !== undefined) assertStorableText('path', body.path);
  if (body.referrer !== undefined) assertStorableText('referrer', body.referrer);
  return body;
}

/** A 400 for a string with a NUL byte or an unpaired surrogate (see isPostgresText). */
export function assertStorableText(field: string, value: string): void {
  if (isPostgresText(value)) return;
  const message = `${field} must not contain NUL bytes or unpaired surrogates`;
  throw AppError.validation(`${message}.`, [{ field, message }]);
}

/** A verify body as a check: the signature object becomes the `x-signature` header form. */
export function fromVerifyRequest(body: VerifyKeyRequest): KeyCheckInput {
  return {
    key: body.key,
    environment: body.environment,
    permissions: body.permissions,
    ip: body.ip ?? null,
    referrer: body.referrer ?? null,
    method: body.method ?? null,
    path: body.path ?? null,
    cost: body.cost ?? 1,
    signatureHeader: body.signature ? `t=${body.signature.timestamp},v1=${body.signature.value.toLowerCase()}` : null,
    bodySha256: body.signature ? body.signature.body_sha256.toLowerCase() : null,
  };
}
