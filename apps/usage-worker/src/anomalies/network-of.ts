import ipaddr from 'ipaddr.js';

/**
 * The network an address belongs to for the "new network" rule: its /24 (IPv4) or
 * /48 (IPv6), the blocks a provider typically hands one site. IPv4-mapped IPv6
 * addresses count as IPv4. Null for anything that is not an IP address.
 */
export function networkOf(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return null;
  let address = ipaddr.parse(ip);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  if (address.kind() === 'ipv4') {
    const [a, b, c] = (address as ipaddr.IPv4).octets;
    return `${a}.${b}.${c}.0/24`;
  }
  const parts = (address as ipaddr.IPv6).parts;
  const network = ipaddr.IPv6.parse(`${parts[0].toString(16)}:${parts[1].toString(16)}:${parts[2].toString(16)}::`);
  return `${network.toString()}/48`;
}
