import { addressProblem } from './public-address';

describe(addressProblem.name, () => {
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '2a00:1450:4001::200e'])('accepts the public address %s', (address) => {
    expect(addressProblem(address)).toBeNull();
  });

  it('names what is wrong with a non-public address', () => {
    expect(addressProblem('192.168.0.10')).toBe('a private address');
    expect(addressProblem('fd00:ec2::254')).toBe('a cloud metadata address');
    expect(addressProblem('junk')).toBe('an address that is not an IP address');
  });

  it.each(['::127.0.0.1', '::7f00:1', '::a00:1', '::8.8.8.8', '0:0:0:0:0:0:5db8:d822'])(
    'refuses the IPv4-compatible address %s',
    (address) => {
      expect(addressProblem(address)).toBe('an IPv4-compatible IPv6 address');
    },
  );

  it('still judges an IPv4-mapped address by the IPv4 address it carries', () => {
    expect(addressProblem('::ffff:93.184.216.34')).toBeNull();
    expect(addressProblem('::ffff:127.0.0.1')).toBe('a loopback address');
    expect(addressProblem('::ffff:7f00:1')).toBe('a loopback address');
  });
});
