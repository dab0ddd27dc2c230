import { lookup as dnsLookup } from 'node:dns/promises';

import ipaddr from 'ipaddr.js';

import { addressProblem, withDeadline } from '@latchkey/platform';

/** Resolves a host name to every address it has (node:dns/promises `lookup(host, {all: true})`). */
export type ResolveHost = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface TargetSafetyOptions {
  /** NODE_ENV=production: only https targets. */
  requireHttps: boolean;
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS: skip the address check (local development and tests). */
  allowPrivateTargets: boolean;
  /** Defaults to the system resolver; unit tests pass a typed fake. */
  resolve?: ResolveHost;
  /** A resolver that hangs must not hold the request; default 5 s. */
  resolveTimeoutMs?: number;
}

/**
 * `reason` is what the tenant is told. A refusal for the host's addresses tells it no
 * more than that: naming what an internal name resolves to would map the operator's
 * network for anyone who can register a webhook. The details are in `logDetail`, for
 * the server's log only.
 */
export type TargetVerdict =
  { allowed: true; url: string } | { allowed: false; reason: string; logDetail?: { host: string; address?: string; problem: string } };

/** The one answer a tenant gets whenever the host's addresses are the problem. */
export const NOT_PUBLIC_REASON = "The URL's host must resolve to a public address.";

export const MAX_WEBHOOK_URL_LENGTH = 2048;

const defaultResolve: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Decides whether Latchkey may send webhooks to `rawUrl`
 * (docs/api-conventions.md#webhooks, SSRF protection): http(s) only (https only in
 * production), no credentials in the URL, and — unless private targets are allowed —
 * every address the host resolves to must be public unicast. Checked when an endpoint
 * is created or its URL changes; the delivery engine checks again at delivery time,
 * because DNS answers can change (rebinding). Answers the normalised URL (as WHATWG URL
 * prints it) when allowed.
 */
export async function checkWebhookTarget(rawUrl: string, options: TargetSafetyOptions): Promise<TargetVerdict> {
  if (rawUrl.length > MAX_WEBHOOK_URL_LENGTH) return refuse(`url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return refuse('url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('url must use https (or http outside production)');
  if (options.requireHttps && url.protocol !== 'https:') return refuse('url must use https');
  if (url.username || url.password) return refuse('url must not contain credentials');
  if (!url.hostname) return refuse('url must name a host');

  if (options.allowPrivateTargets) return { allowed: true, url: url.href };

  // WHATWG URL already turned 0x7f.1, 2130706433 and friends into dotted IPv4,
  // and keeps IPv6 literals in brackets.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: string[];
  if (ipaddr.isValid(host)) {
    addresses = [host];
  } else {
    try {
      const resolved = await withDeadline((options.resolve ?? defaultResolve)(host), options.resolveTimeoutMs ?? 5_000);
      addresses = resolved.map((entry) => entry.address);
    } catch (error) {
      // The same answer as a private address: "does not resolve" against "resolves
      // privately" would tell which internal names exist.
      return notPublic({ host, problem: `does not resolve (${(error as Error).message})` });
    }
    if (addresses.length === 0) return notPublic({ host, problem: 'resolves to no address' });
  }
  for (const address of addresses) {
    const problem = addressProblem(address);
    if (problem) return notPublic({ host, address, problem: `points at ${problem}` });
  }
  return { allowed: true, url: url.href };
}

function notPublic(logDetail: { host: string; address?: string; problem: string }): TargetVerdict {
  return { allowed: false, reason: NOT_PUBLIC_REASON, logDetail };
}

function refuse(reason: string): TargetVerdict {
  return { allowed: false, reason };
}
