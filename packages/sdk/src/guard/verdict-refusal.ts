import type { RefusedVerdict } from '../verifier/verdict';

/** The HTTP answer a refused verdict deserves: who are you (401), you may not (403), not now (429). */
export interface Refusal {
  status: 401 | 403 | 429;
  headers: Record<string, string>;
  body: { success: false; error: { code: string; message: string; details: [] } };
}

const UNAUTHENTICATED = new Set(['MALFORMED', 'NOT_FOUND', 'DISABLED', 'EXPIRED', 'REVOKED']);
const LIMITED = new Set(['RATE_LIMITED', 'QUOTA_EXCEEDED']);

/**
 * The answer to a refused key, as Latchkey's own GET /v1/check gives it: 401 with
 * WWW-Authenticate for a key that is not one, 429 with Retry-After for a limit (when the
 * rate limit or the quota says when it frees up), 403 for everything else the key may not do.
 */
export function refusalFor(verdict: RefusedVerdict, nowMs = Date.now()): Refusal {
  const headers: Record<string, string> = {};
  let status: Refusal['status'] = 403;
  if (UNAUTHENTICATED.has(verdict.code)) {
    status = 401;
    headers['www-authenticate'] = `ApiKey realm="latchkey", error="${verdict.code.toLowerCase()}"`;
  } else if (LIMITED.has(verdict.code)) {
    status = 429;
    // Until the limit that refused frees up: the rate limit's window, or the quota's period.
    const resetAt = verdict.code === 'RATE_LIMITED' ? verdict.rate_limit?.reset_at : verdict.quota?.reset_at;
    const resetMs = resetAt ? Date.parse(resetAt) : NaN;
    if (Number.isFinite(resetMs)) headers['retry-after'] = String(Math.max(1, Math.ceil((resetMs - nowMs) / 1000)));
  }
  if (verdict.rate_limit) {
    headers['ratelimit-limit'] = String(verdict.rate_limit.limit);
    headers['ratelimit-remaining'] = String(verdict.rate_limit.remaining);
  }
  return { status, headers, body: { success: false, error: { code: verdict.code, message: MESSAGES[status], details: [] } } };
}

const MESSAGES: Record<Refusal['status'], string> = {
  401: 'Send a valid API key as x-api-key or Authorization: Bearer.',
  403: 'This API key may not make this request.',
  429: 'This API key is over its rate limit or quota.',
};
