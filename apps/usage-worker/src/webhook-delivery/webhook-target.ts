import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';

import ipaddr from 'ipaddr.js';

/** A target that resolves to an address webhooks must not reach (SSRF, DNS rebinding). */
export class RefusedTargetError extends Error {
  readonly code = 'EREFUSEDTARGET';
}

/**
 * True only for ordinary public unicast addresses: private, loopback, link-local
 * (169.254.169.254, the cloud metadata service, is link-local), unique-local,
 * carrier-grade NAT, multicast, reserved and the like are all refused. An
 * IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
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
        callback(new RefusedTargetError(`${hostname} resolves to ${refused?.address ?? 'nothing'}, which webhooks may not reach`), '', 0);
        return;
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

export const guardedLookup = createGuardedLookup();
