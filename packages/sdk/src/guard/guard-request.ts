import { LatchkeyUnavailableError } from '../core/errors';
import { extractKey } from '../extract-key';
import type { PassingVerdict } from '../verifier/verdict';
import type { Verifier } from '../verifier/verifier';
import { refusalFor } from './verdict-refusal';

/** What a guarded route asks of the key: permissions, environment, and what a call costs from the quota. */
export interface KeyRequirement {
  permissions?: string[];
  environment?: 'test' | 'live';
  cost?: number;
}

/** The parts of an HTTP request a guard sends to Latchkey, whatever the framework. */
export interface GuardedCall {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  method?: string;
  /** The path with its query string, as the caller sent (and signed) it. */
  path?: string;
  /** The raw body; hashed for a signing key's `x-signature`, none meaning the empty body. */
  rawBody?: string | Uint8Array;
}

/** The HTTP answer for a call that may not go on; the same for every adapter. */
export interface GuardAnswer {
  status: 401 | 403 | 429 | 503;
  headers: Record<string, string>;
  body: { success: false; error: { code: string; message: string; details: [] } };
}

export type GuardOutcome = { pass: true; verdict: PassingVerdict } | { pass: false; answer: GuardAnswer; cause?: Error };

const UNAVAILABLE: GuardAnswer['body'] = {
  success: false,
  error: { code: 'SERVICE_UNAVAILABLE', message: 'API keys cannot be checked right now.', details: [] },
};

/**
 * The one verdict-to-HTTP mapping of the Nest guard, the Express middleware and the
 * Fastify hook: verifies the call's key and answers either the passing verdict or the
 * refusal to send (401 with WWW-Authenticate, 403, 429 with Retry-After), or 503 when
 * Latchkey cannot be asked: it fails closed. Any other error is thrown.
 */
export async function guardCall(verifier: Verifier, requirement: KeyRequirement, call: GuardedCall): Promise<GuardOutcome> {
  const signature = call.headers['x-signature'];
  const referrer = firstHeader(call.headers, 'referer') ?? firstHeader(call.headers, 'origin');
  let verdict;
  try {
    verdict = await verifier.verify({
      key: extractKey(call.headers),
      ...requirement,
      ip: call.ip,
      // As GET /v1/check does: a key restricted to referrers is checked against the caller's Referer (or Origin).
      ...(referrer === undefined ? {} : { referrer }),
      method: call.method,
      path: call.path,
      ...(typeof signature === 'string' ? { signatureHeader: signature, body: call.rawBody ?? '' } : {}),
    });
  } catch (error) {
    if (!(error instanceof LatchkeyUnavailableError)) throw error;
    return { pass: false, answer: { status: 503, headers: {}, body: UNAVAILABLE }, cause: error };
  }
  if (verdict.valid) return { pass: true, verdict };
  return { pass: false, answer: refusalFor(verdict) };
}

function firstHeader(headers: GuardedCall['headers'], name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/**
 * Which hops of `x-forwarded-for` to believe: false (the default) none, the socket's
 * peer is the client; true all of them, the left-most address is the client; a number
 * that many proxies in front of the service.
 */
export type TrustProxy = boolean | number;

/** The client's address: the socket's peer, or the `x-forwarded-for` entry the trusted proxies vouch for. */
export function clientIp(
  headers: Record<string, string | string[] | undefined>,
  remoteAddress: string | undefined,
  trustProxy: TrustProxy = false,
): string | undefined {
  const hops = trustProxy === true ? Infinity : trustProxy === false ? 0 : Math.max(0, Math.floor(trustProxy));
  if (hops === 0) return stripMappedPrefix(remoteAddress);
  const forwarded = headers['x-forwarded-for'];
  const chain = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  // Addresses from the client to the last proxy, then the peer itself: believe `hops` of them from the right.
  const addresses = [...chain, ...(remoteAddress ? [remoteAddress] : [])];
  if (addresses.length === 0) return undefined;
  const index = Math.max(0, addresses.length - 1 - Math.min(hops, addresses.length - 1));
  return stripMappedPrefix(addresses[index]);
}

/** `::ffff:203.0.113.9` is the IPv4 address 203.0.113.9 as a dual-stack socket reports it. */
function stripMappedPrefix(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
