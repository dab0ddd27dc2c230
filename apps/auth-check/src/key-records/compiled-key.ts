import ipaddr from 'ipaddr.js';

import { KeyRecord, MULTI_WILDCARD_PATTERN_BUDGET, multiWildcardCost } from '@latchkey/contracts';
import { SecretBox } from '@latchkey/crypto';

import { compilePathGlob, escapeRegExp, NEVER, PathMatcher } from './path-glob';

export type IpRange = [ipaddr.IPv4 | ipaddr.IPv6, number];

export interface EndpointRule {
  method: string;
  path: PathMatcher;
}

/**
 * A key record with its restrictions parsed once, when it enters the cache, so a
 * cached check does no parsing, no regex compilation and no decryption.
 */
export interface CompiledKey {
  record: KeyRecord;
  ipRanges: IpRange[];
  referrers: RegExp[];
  endpoints: EndpointRule[];
  /** Opened signing secrets: the current one, then the previous one (valid until previous_secret_expires_at). */
  signingSecret: string | null;
  previousSigningSecret: string | null;
}

export function compileKey(record: KeyRecord, box: SecretBox): CompiledKey {
  return {
    record,
    ipRanges: record.restrictions.ip_allowlist.map(parseRange).filter((range): range is IpRange => range !== null),
    referrers: record.restrictions.referrers.map(compileReferrer),
    endpoints: compileEndpoints(record.restrictions.endpoints),
    // The sealed value is bound to the key id: a sealed secret pasted onto another row does not open.
    signingSecret: record.signing_secret_sealed ? openOrNull(box, record.signing_secret_sealed, record.id) : null,
    previousSigningSecret: record.previous_signing_secret_sealed ? openOrNull(box, record.previous_signing_secret_sealed, record.id) : null,
  };
}

/** Each rule's matcher; a multi-wildcard pattern past the key's budget matches nothing (fail closed). */
function compileEndpoints(endpoints: KeyRecord['restrictions']['endpoints']): EndpointRule[] {
  let budget = MULTI_WILDCARD_PATTERN_BUDGET;
  return endpoints.map((endpoint) => {
    const cost = multiWildcardCost(endpoint.path);
    budget -= cost;
    return { method: endpoint.method.toUpperCase(), path: cost > 0 && budget < 0 ? NEVER : compilePathGlob(endpoint.path) };
  });
}

function openOrNull(box: SecretBox, sealed: string, context: string): string | null {
  try {
    return box.open(sealed, context);
  } catch {
    return null;
  }
}

function parseRange(value: string): IpRange | null {
  try {
    if (value.includes('/')) {
      const [address, bits] = ipaddr.parseCIDR(value);
      return normalizeRange(address, bits);
    }
    const address = ipaddr.parse(value);
    return normalizeRange(address, address.kind() === 'ipv4' ? 32 : 128);
  } catch {
    return null;
  }
}

/** `::ffff:203.0.113.0/120` is an IPv4 range written in IPv6: compare it as IPv4. */
function normalizeRange(address: ipaddr.IPv4 | ipaddr.IPv6, bits: number): IpRange {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

/** Parses a client address; an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as dual-stack sockets report) becomes IPv4. */
export function parseClientIp(value: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    return ipaddr.process(value.trim());
  } catch {
    return null;
  }
}

/**
 * An origin pattern (`https://*.example.com`, `*://example.com:*`) as a regex over a
 * normalised origin (`scheme://host[:port]`, default port omitted as URL does).
 * A `*` host label stands for exactly one subdomain label: `*.example.com` matches
 * `api.example.com`, not `example.com` nor `a.b.example.com`.
 */
export function compileReferrer(pattern: string): RegExp {
  const match = /^(https?|\*):\/\/(\*\.)?([^:/]+)(?::(\d{1,5}|\*))?$/i.exec(pattern.trim());
  if (!match) return /(?!)/; // an unparseable pattern allows nothing
  const [, scheme, wildcard, host, port] = match;
  const schemePart = scheme === '*' ? 'https?' : escapeRegExp(scheme.toLowerCase());
  const hostPart = (wildcard ? '[a-z0-9-]+\\.' : '') + escapeRegExp(host.toLowerCase());
  let portPart = '';
  if (port === '*') portPart = '(?::\\d{1,5})?';
  else if (port !== undefined) {
    const isDefault = (port === '443' && scheme.toLowerCase() === 'https') || (port === '80' && scheme.toLowerCase() === 'http');
    portPart = isDefault ? '' : `:${port}`;
  }
  return new RegExp(`^${schemePart}://${hostPart}${portPart}$`);
}

/** The origin of a Referer or Origin header, normalised for compileReferrer's patterns; null when it is no URL. */
export function originOf(referrer: string): string | null {
  try {
    const url = new URL(referrer);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return `${url.protocol}//${url.hostname.toLowerCase()}${url.port ? `:${url.port}` : ''}`;
  } catch {
    return null;
  }
}
