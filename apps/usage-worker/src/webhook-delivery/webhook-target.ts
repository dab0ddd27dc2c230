import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';

import { Logger } from '@nestjs/common';
import ipaddr from 'ipaddr.js';

/**
 * What the delivery log (which the tenant reads) says about a refused target: never
 * what the host resolved to, which would map the operator's internal network. The
 * address goes to the server's log instead.
 */
export const NOT_PUBLIC_TARGET = "refused: the URL's host must resolve to a public address";

const logger = new Logger('WebhookTarget');

/** A target that resolves to an address webhooks must not reach (SSRF, DNS rebinding). */
export class RefusedTargetError extends Error {
  readonly code = 'EREFUSEDTARGET';
}

/**
 * True only for ordinary public unicast addresses: private, loopback, link-local
 * (169.254.169.254, the cloud metadata service, is link-local), unique-local,
 * carrier-grade NAT, multicast, reserved and the like are all refused, and so is
 * IPv4-compatible IPv6 (::/96, e.g. ::7f00:1), which some stacks still tunnel to the
 * IPv4 address inside. An IPv4-mapped IPv6 address is judged as the IPv4 address it
 * carries. The same rules as org-api's target-safety.ts, which judges at registration.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = parseAddress(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.range() !== 'unicast') return false;
  return !(parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0));
}

/**
 * ipaddr.js reads `::a.b.c.d` (IPv4-compatible) as if it were `::ffff:a.b.c.d`
 * (IPv4-mapped), and glibc prints every ::/96 address that way: a lookup answering
 * ::7f00:1 reports "::127.0.0.1". The dotted tail is rewritten as two hex groups first,
 * so the address judged is the one the kernel would connect to.
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

/** Refuses a target for the delivery log, and tells the server's log why. */
export function refuseTarget(host: string, address: string | undefined, reason: string): RefusedTargetError {
  logger.warn({ msg: 'webhook delivery refused: its host is not public', host, address, reason });
  return new RefusedTargetError(NOT_PUBLIC_TARGET);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolve = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for http.request and http.Agent that refuses addresses `accepts` rejects
 * (by default every non-public one). It runs when a socket connects, so the address
 * checked is the address used: a name that resolved to a public address at creation
 * and to 127.0.0.1 now is refused. Only tests pass their own resolver and policy.
 */
export function createGuardedLookup(resolve: Resolve = dnsLookup, accepts: (address: string) => boolean = isPublicAddress) {
  return function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const refused = addresses.find((entry) => !accepts(entry.address));
      if (refused || addresses.length === 0) {
        callback(refuseTarget(hostname, refused?.address, refused ? 'resolves to a non-public address' : 'resolves to no address'), '', 0);
        return;
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

export const guardedLookup = createGuardedLookup();
