import { normalizeIpRange } from './ip-range';

describe(normalizeIpRange.name, () => {
  it.each([
    ['203.0.113.7', '203.0.113.7/32'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::1', '2001:db8::1/128'],
    ['2001:DB8:0:0::/32', '2001:db8::/32'],
    ['::ffff:192.0.2.1', '::ffff:c000:201/128'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normalizeIpRange(input)).toBe(expected);
  });

  it.each(['', 'localhost', '10', '0x0a.0.0.1', '256.0.0.1', '10.0.0.0/33', '10.0.0.0/', '2001:db8::/129', 'fe80::1%eth0', '1.2.3.4/8/8'])(
    'refuses %p',
    (input) => {
      expect(normalizeIpRange(input)).toBeNull();
    },
  );
});
