import { lookup as dnsLookup } from 'node:dns/promises';

import ipaddr from 'ipaddr.js';

import { withDeadline } from '@latchkey/platform';

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

/**
 * Cloud metadata services, named on their own so the refusal says why. Both also sit
 * in refused ranges (link-local, unique-local); listing them keeps them refused even
 * if a range rule changes.
 */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254']);

/**
 * The address ranges a webhook may be sent to. Everything else ipaddr.js names —
 * private, loopback, linkLocal, uniqueLocal, carrierGradeNat, multicast, unspecified,
 * broadcast, reserved, and the IPv6 ranges that tunnel or translate to IPv4 (6to4,
 * teredo, NAT64) — is refused: an allow-list cannot be side-stepped by a range
 * nobody thought to block.
 */
const PUBLIC_RANGE = 'unicast';

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

/**
 * ipaddr.js reads `::a.b.c.d` (IPv4-compatible, ::/96) as if it were `::ffff:a.b.c.d`
 * (IPv4-mapped), and glibc prints every ::/96 address that way: a lookup answering
 * ::7f00:1 reports "::127.0.0.1". The dotted tail is rewritten as two hex groups first,
 * so the address judged is the one the kernel would connect to.
 * (The usage worker's webhook-target.ts does the same at delivery time.)
 */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(%.*)?$/.exec(address);
  if (dotted) {
    const octets = dotted.slice(2, 6).map(Number);
    if (octets.every((octet) => octet <= 255)) {
      const hex = (high: number, low: number) => ((high << 8) | low).toString(16);
      return ipaddr.parse(`${dotted[1]}${hex(octets[0], octets[1])}:${hex(octets[2], octets[3])}${dotted[6] ?? ''}`);
    }
  }
  return ipaddr.parse(address);
}

/** ::/96 other than :: and ::1: IPv4-compatible IPv6, deprecated, and tunnelled to the IPv4 address by some stacks. */
function isIPv4Compatible(address: ipaddr.IPv6): boolean {
  return address.parts.slice(0, 6).every((part) => part === 0);
}

/** Why an address is not a public unicast one, or null when it is. */
export function addressProblem(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = parseAddress(address);
  } catch {
    return 'an address that is not an IP address';
  }
  // ::ffff:127.0.0.1 is 127.0.0.1 to the kernel: judge the IPv4 inside.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  if (METADATA_ADDRESSES.has(parsed.toNormalizedString()) || METADATA_ADDRESSES.has(parsed.toString())) {
    return 'a cloud metadata address';
  }
  const range = parsed.range();
  if (range !== PUBLIC_RANGE) return `a ${range} address`;
  // ipaddr.js calls ::7f00:1 unicast; it is 127.0.0.1 on any stack that still honours ::/96.
  if (parsed.kind() === 'ipv6' && isIPv4Compatible(parsed as ipaddr.IPv6)) return 'an IPv4-compatible IPv6 address';
  return null;
}

function refuse(reason: string): TargetVerdict {
  return { allowed: false, reason };
}
