import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';

import { Logger } from '@nestjs/common';

import { addressProblem } from '@latchkey/platform';

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
 * carries. The rules are libs/platform's addressProblem, which org-api judges by at registration.
 */
export function isPublicAddress(address: string): boolean {
  return addressProblem(address) === null;
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
