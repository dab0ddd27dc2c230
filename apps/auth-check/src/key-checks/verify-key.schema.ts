import { isIP } from 'node:net';

import { isPostgresText, VERIFY_KEY_REQUEST, VerifyKeyRequest } from '@latchkey/contracts';
import { AppError, contractParser } from '@latchkey/platform';

import { KeyCheckInput } from './key-verdict';

/**
 * What the verify contract's schema cannot say, checked after the shape. What the check
 * stores (ip, method, path in the usage event and request log) must also be text
 * Postgres accepts: a NUL or a lone surrogate in one check would make Postgres refuse
 * the whole usage batch it shares with other tenants' checks.
 */
export function refineVerifyKeyRequest(body: VerifyKeyRequest): void {
  if (body.ip !== undefined && isIP(body.ip) === 0) {
    throw AppError.validation('ip must be an IPv4 or IPv6 address.', [{ field: 'ip', message: 'must be an IPv4 or IPv6 address' }]);
  }
  if (body.path !== undefined) assertStorableText('path', body.path);
  if (body.referrer !== undefined) assertStorableText('referrer', body.referrer);
}

/**
 * The body as a VerifyKeyRequest, or a VALIDATION_FAILED AppError (400 over HTTP): the
 * contract's schema, compiled once and shared with `auth.verify`, as a class-validator
 * DTO on this route cost about half its throughput
 * (docs/decisions/0005-compiled-schemas-on-the-hot-path.md).
 */
export const parseVerifyKeyRequest = contractParser(VERIFY_KEY_REQUEST, refineVerifyKeyRequest);

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
