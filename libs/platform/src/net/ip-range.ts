import { registerDecorator, ValidationOptions } from 'class-validator';
import ipaddr from 'ipaddr.js';

/** `::ffff:0:0/96`: the IPv6 prefix that carries an IPv4 address in its last 32 bits. */
const MAPPED_PREFIX_BITS = 96;

/**
 * An IP allowlist entry (an API key's or a management key's) in canonical CIDR form, or
 * null when it is not an IPv4/IPv6 address or CIDR. A single address becomes /32 (/128);
 * a CIDR its network address (`10.1.2.3/8` → `10.0.0.0/8`) so equal ranges compare equal.
 * IPv4 must be four dotted decimals (ipaddr.js's looser forms such as `10` or `0x0a.0.0.1`
 * are refused), and IPv6 zone ids mean nothing to a remote caller. An IPv4-mapped IPv6 entry
 * (`::ffff:10.0.0.0/104`) is written as the IPv4 range it maps, because callers' mapped
 * addresses are matched as IPv4.
 */
export function canonicalIpRange(value: string): string | null {
  const text = value.trim();
  if (text.length === 0 || text.length > 64 || text.includes('%')) return null;
  try {
    if (text.includes('/')) {
      if (ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) {
        return `${ipaddr.IPv4.networkAddressFromCIDR(text).toString()}/${ipaddr.IPv4.parseCIDR(text)[1]}`;
      }
      if (ipaddr.IPv6.isValidCIDR(text)) {
        const network = ipaddr.IPv6.networkAddressFromCIDR(text);
        const bits = ipaddr.IPv6.parseCIDR(text)[1];
        if (bits >= MAPPED_PREFIX_BITS && network.isIPv4MappedAddress()) {
          return `${network.toIPv4Address().toString()}/${bits - MAPPED_PREFIX_BITS}`;
        }
        return `${network.toString()}/${bits}`;
      }
      return null;
    }
    if (ipaddr.IPv4.isValidFourPartDecimal(text)) return `${ipaddr.IPv4.parse(text).toString()}/32`;
    if (ipaddr.IPv6.isValid(text)) {
      const address = ipaddr.IPv6.parse(text);
      return address.isIPv4MappedAddress() ? `${address.toIPv4Address().toString()}/32` : `${address.toString()}/128`;
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * Whether the caller's address is in one of the canonical ranges; an empty list allows any
 * address. An IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, as a dual-stack socket reports)
 * is matched as the IPv4 address it carries. An address that does not parse is outside.
 */
export function isAddressInRanges(address: string, ranges: readonly string[]): boolean {
  if (ranges.length === 0) return true;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return false;
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return ranges.some((cidr) => {
    const range = ipaddr.parseCIDR(cidr);
    return range[0].kind() === parsed.kind() && parsed.match(range);
  });
}

/** A DTO field whose every element canonicalIpRange accepts. */
export function IsIpRangeList(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isIpRangeList',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must hold IPv4/IPv6 addresses or CIDRs such as 203.0.113.0/24`, ...options },
      validator: {
        validate: (value: unknown) =>
          Array.isArray(value) && value.every((item) => typeof item === 'string' && canonicalIpRange(item) !== null),
      },
    });
}
