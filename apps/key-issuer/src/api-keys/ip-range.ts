import ipaddr from 'ipaddr.js';

/**
 * An allowlist entry in canonical CIDR form, or null when it is not an IPv4/IPv6
 * address or CIDR. A single address becomes a /32 (/128); a CIDR is reduced to its
 * network address (`10.1.2.3/8` → `10.0.0.0/8`) so equal ranges compare equal.
 * IPv4 must be four dotted decimals: ipaddr.js's looser forms (`10`, `0x0a.0.0.1`)
 * are refused, as are IPv6 zone ids, which mean nothing to a remote caller.
 */
export function normalizeIpRange(value: string): string | null {
  const text = value.trim();
  if (text.length === 0 || text.length > 64 || text.includes('%')) return null;
  try {
    if (text.includes('/')) {
      if (ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) {
        const [, bits] = ipaddr.IPv4.parseCIDR(text);
        return `${ipaddr.IPv4.networkAddressFromCIDR(text).toString()}/${bits}`;
      }
      if (ipaddr.IPv6.isValidCIDR(text)) {
        const [, bits] = ipaddr.IPv6.parseCIDR(text);
        return `${ipaddr.IPv6.networkAddressFromCIDR(text).toString()}/${bits}`;
      }
      return null;
    }
    if (ipaddr.IPv4.isValidFourPartDecimal(text)) return `${ipaddr.IPv4.parse(text).toString()}/32`;
    if (ipaddr.IPv6.isValid(text)) return `${ipaddr.IPv6.parse(text).toString()}/128`;
  } catch {
    return null;
  }
  return null;
}
