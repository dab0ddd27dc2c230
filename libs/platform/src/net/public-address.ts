import ipaddr from 'ipaddr.js';

/**
 * Whether an IP address is one webhooks may reach: ordinary public unicast only. Judged
 * when an endpoint is registered (org-api) and again at delivery (usage-worker, against
 * DNS rebinding), so both use this one module.
 */

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

/**
 * Why an address is not a public unicast one, or null when it is. An IPv4-mapped IPv6
 * address is judged as the IPv4 address it carries; IPv4-compatible IPv6 (::/96, e.g.
 * ::7f00:1), which some stacks still tunnel to the IPv4 address inside, is refused.
 */
export function addressProblem(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = parseIpAddress(address);
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

/**
 * ipaddr.js reads `::a.b.c.d` (IPv4-compatible, ::/96) as if it were `::ffff:a.b.c.d`
 * (IPv4-mapped), and glibc prints every ::/96 address that way: a lookup answering
 * ::7f00:1 reports "::127.0.0.1". The dotted tail is rewritten as two hex groups first,
 * so the address judged is the one the kernel would connect to. Throws for no address.
 */
function parseIpAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
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

/** ::/96 other than :: and ::1: IPv4-compatible IPv6, deprecated. */
function isIPv4Compatible(address: ipaddr.IPv6): boolean {
  return address.parts.slice(0, 6).every((part) => part === 0);
}
