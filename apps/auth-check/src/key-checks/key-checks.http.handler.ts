import { Injectable } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { CheckRefusals, ErrorKind, VerifyCode } from '@latchkey/contracts';
import { constantTimeEquals, presentedApiKey } from '@latchkey/crypto';
import { AppError, errorEnvelope } from '@latchkey/platform';

import { FrontDoorAnswer, FrontDoorRequest } from '../front-door/front-door';
import { andThen, MaybePromise } from '../front-door/maybe-promise';
import { KeyChecksService } from './key-checks.service';
import { KeyCheck, KeyCheckInput } from './key-verdict';
import { assertStorableText, fromVerifyRequest, parseVerifyKeyRequest } from './verify-key.schema';

const WWW_AUTHENTICATE = 'ApiKey realm="latchkey"';

/**
 * What the two check routes do, shared by the front door (which answers them before
 * Fastify, KeyChecksFrontDoor) and the documented Nest controller. They build their
 * own envelope and validate with a compiled JSON schema: this is the hot path.
 */
@Injectable()
export class KeyChecksHttpHandler {
  private readonly internalTokens: string[];

  constructor(
    config: AppConfig,
    private readonly checks: KeyChecksService,
  ) {
    this.internalTokens = config.get('internalTokens');
  }

  /** 200 with the verdict whether or not the key passes; 400 only for a malformed body. */
  verify(request: FrontDoorRequest): MaybePromise<FrontDoorAnswer> {
    this.assertInternalCaller(request);
    return andThen(this.checks.verify(fromVerifyRequest(parseVerifyKeyRequest(request.body))), (check) => ({
      status: 200,
      headers: limitHeaders(check),
      body: { success: true, data: check.verdict },
    }));
  }

  /**
   * Forward auth (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz): the key
   * from the caller's headers, the original request from X-Forwarded-* (the client
   * address through Fastify's trustProxy, so only a trusted proxy can set it), and
   * what to require from the query: `?permissions=a,b&environment=live&cost=2`.
   */
  check(request: FrontDoorRequest): MaybePromise<FrontDoorAnswer> {
    this.assertInternalCaller(request);
    return andThen(this.checks.verify(fromForwardedRequest(request)), (check) => forwardAuthAnswer(check, request.id));
  }

  private assertInternalCaller(request: FrontDoorRequest): void {
    if (this.internalTokens.length === 0) return;
    const presented = request.headers['x-internal-token'];
    // Every configured token is compared (no early exit), so the time taken does not say which one matched.
    const matches = typeof presented === 'string' ? this.internalTokens.filter((token) => constantTimeEquals(presented, token)) : [];
    if (matches.length === 0) {
      throw AppError.unauthenticated('Send the internal token as x-internal-token.');
    }
  }
}

/**
 * A pass is a 200 with X-Latchkey-* and no body: nginx auth_request, Traefik and Envoy
 * read only the status and headers of a 2xx (callers wanting the verdict itself use
 * POST /v1/verify), and this answer goes out once per request of every customer.
 * A refusal is a 401 + WWW-Authenticate, 403 or 429 with the error envelope, which
 * Traefik and Envoy pass on to the client.
 */
function forwardAuthAnswer(check: KeyCheck, requestId: string): FrontDoorAnswer {
  const { verdict } = check;
  const headers = limitHeaders(check);
  if (verdict.valid) {
    headers['x-latchkey-org-id'] = verdict.org_id ?? '';
    headers['x-latchkey-key-id'] = verdict.key_id ?? '';
    headers['x-latchkey-environment'] = verdict.environment ?? '';
    // The org's free text (up to 200 characters): percent-encoded as encodeURIComponent does, so a
    // space, a non-ASCII letter or a line break cannot break the header; ids like `cus_42` pass unchanged.
    if (verdict.owner_id !== null) headers['x-latchkey-owner-id'] = encodeURIComponent(verdict.owner_id);
    return { status: 200, headers, body: undefined };
  }
  // "Who are you?" (401), "you may not" (403) or "not now" (429): the catalogue's CheckRefusals says which.
  const refusal = CheckRefusals[verdict.code];
  if (refusal.kind === ErrorKind.Unauthenticated) {
    headers['www-authenticate'] = `${WWW_AUTHENTICATE}, error="${verdict.code.toLowerCase()}"`;
  }
  const body = errorEnvelope({ code: verdict.code, message: messageFor(verdict.code), details: [] }, requestId);
  return { status: refusal.status, headers, body };
}

function header(request: FrontDoorRequest, name: string): string | null {
  const value = request.headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** `x-api-key: KEY`, `Authorization: Bearer KEY` or `Authorization: x-api-key KEY`; '' when none (MALFORMED). */
export function presentedKey(request: FrontDoorRequest): string {
  return presentedApiKey(request.headers);
}

function fromForwardedRequest(request: FrontDoorRequest): KeyCheckInput {
  const { query } = request;
  const environment = typeof query.environment === 'string' ? query.environment : undefined;
  if (environment !== undefined && environment !== 'test' && environment !== 'live') {
    throw AppError.validation('environment must be test or live.', [{ field: 'environment', message: 'must be test or live' }]);
  }
  const permissions =
    typeof query.permissions === 'string'
      ? query.permissions
          .split(',')
          .map((permission) => permission.trim())
          .filter(Boolean)
      : undefined;
  let cost = 1;
  if (query.cost !== undefined) {
    cost = typeof query.cost === 'string' && /^\d{1,7}$/.test(query.cost) ? Number(query.cost) : 0;
    if (cost < 1) {
      throw AppError.validation('cost must be an integer from 1 to 1000000.', [{ field: 'cost', message: 'must be 1 to 1000000' }]);
    }
  }
  const method = header(request, 'x-forwarded-method') ?? header(request, 'x-original-method');
  const path = header(request, 'x-forwarded-uri') ?? header(request, 'x-original-uri');
  // Header values reach Node as latin-1, which Postgres stores; only a NUL could poison the usage batch.
  if (method) assertStorableText('x-forwarded-method', method);
  if (path) assertStorableText('x-forwarded-uri', path);
  return {
    key: presentedKey(request),
    environment,
    permissions,
    ip: request.ip,
    referrer: header(request, 'referer') ?? header(request, 'origin'),
    method: method ? method.toUpperCase() : null,
    path,
    cost,
    signatureHeader: header(request, 'x-signature'),
    bodySha256: header(request, 'x-content-sha256')?.toLowerCase() ?? null,
  };
}

/** RateLimit-* whenever a rate limit applied; Retry-After whenever the check was refused for a limit. */
function limitHeaders(check: KeyCheck): Record<string, string> {
  const headers: Record<string, string> = {};
  const limit = check.verdict.rate_limit;
  if (limit) {
    headers['ratelimit-limit'] = String(limit.limit);
    headers['ratelimit-remaining'] = String(limit.remaining);
    headers['ratelimit-reset'] = String(Math.max(0, Math.ceil((Date.parse(limit.reset_at) - Date.now()) / 1000)));
  }
  if (check.retryAfterSeconds !== null) headers['retry-after'] = String(check.retryAfterSeconds);
  return headers;
}

function messageFor(code: string): string {
  switch (code) {
    case VerifyCode.Malformed:
      return 'Send a well-formed API key as x-api-key or Authorization: Bearer.';
    case VerifyCode.NotFound:
      return 'Unknown API key.';
    case VerifyCode.Disabled:
      return 'This API key is disabled.';
    case VerifyCode.Expired:
      return 'This API key has expired.';
    case VerifyCode.Revoked:
      return 'This API key has been revoked.';
    case VerifyCode.RateLimited:
      return 'Rate limit exceeded.';
    case VerifyCode.QuotaExceeded:
      return 'Quota exhausted for this period.';
    case VerifyCode.InvalidSignature:
      return 'The request signature is missing, invalid, stale or already used.';
    default:
      return `This API key may not make this request (${code}).`;
  }
}
