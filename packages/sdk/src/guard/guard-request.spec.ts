import { clientIp } from './guard-request';

describe(clientIp.name, () => {
  const headers = { 'x-forwarded-for': '198.51.100.7, 203.0.113.2' };

  it('believes no forwarded hop unless told to', () => {
    expect(clientIp(headers, '::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(clientIp(headers, '10.0.0.5', false)).toBe('10.0.0.5');
  });

  it('takes as many hops from the right as there are trusted proxies', () => {
    expect(clientIp(headers, '10.0.0.5', 1)).toBe('203.0.113.2');
    expect(clientIp(headers, '10.0.0.5', 2)).toBe('198.51.100.7');
    expect(clientIp(headers, '10.0.0.5', 9)).toBe('198.51.100.7');
    expect(clientIp(headers, '10.0.0.5', true)).toBe('198.51.100.7');
  });

  it('falls back to the peer when nothing was forwarded', () => {
    expect(clientIp({}, '10.0.0.5', true)).toBe('10.0.0.5');
    expect(clientIp({ 'x-forwarded-for': ['198.51.100.7', '203.0.113.2'] }, '10.0.0.5', 1)).toBe('203.0.113.2');
  });
});
