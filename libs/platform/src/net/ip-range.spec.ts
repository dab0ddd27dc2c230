import { canonicalIpRange, isAddressInRanges } from './ip-range';

describe('IP allowlist ranges', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7/32'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    [' 2001:db8::1 ', '2001:db8::1/128'],
    ['2001:db8:1::5/48', '2001:db8:1::/48'],
    ['::ffff:10.1.2.3/104', '10.0.0.0/8'],
    ['::ffff:203.0.113.7', '203.0.113.7/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0::/32', '2001:db8::/32'],
  ])('writes %s as %s', (input, canonical) => {
    expect(canonicalIpRange(input)).toBe(canonical);
  });

  it.each([
    '',
    'localhost',
    '10',
    '0x0a.0.0.1',
    '256.0.0.1',
    '10.0.0.0/33',
    '10.0.0.0/',
    '2001:db8::/129',
    'fe80::1%eth0',
    'example.com',
    '1.2.3.4/8/8',
  ])('refuses %p', (input) => {
    expect(canonicalIpRange(input)).toBeNull();
  });

  it('allows any address with an empty list, else only addresses inside a range of the same family', () => {
    expect(isAddressInRanges('198.51.100.1', [])).toBe(true);
    expect(isAddressInRanges('203.0.113.9', ['203.0.113.0/24'])).toBe(true);
    expect(isAddressInRanges('203.0.114.9', ['203.0.113.0/24'])).toBe(false);
    expect(isAddressInRanges('::ffff:203.0.113.9', ['203.0.113.0/24'])).toBe(true);
    expect(isAddressInRanges('2001:db8::9', ['203.0.113.0/24', '2001:db8::/32'])).toBe(true);
    expect(isAddressInRanges('2001:db9::9', ['2001:db8::/32'])).toBe(false);
    expect(isAddressInRanges('not an address', ['0.0.0.0/0'])).toBe(false);
    // An IPv4-mapped entry, as written, matches both forms of a caller's address.
    const mapped = [canonicalIpRange('::ffff:10.0.0.0/104') as string];
    expect(isAddressInRanges('::ffff:10.9.8.7', mapped)).toBe(true);
    expect(isAddressInRanges('10.9.8.7', mapped)).toBe(true);
    expect(isAddressInRanges('11.9.8.7', mapped)).toBe(false);
  });
});
