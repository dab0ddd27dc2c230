import { crc32 } from 'node:zlib';

import { checksumOf, crc32Fallback, generateApiKey, maskApiKey, parseApiKey, presentedApiKey } from './api-key-format';

describe('API key format', () => {
  // Vectors computed independently with Python's zlib.crc32 and a base62 encoder.
  it.each([
    ['sk_test_0123456789abcdefghijABCDEFGHIJkl', '2OgMyZ'],
    ['sk_live_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ', '3P5oBH'],
    ['pk_test_0123456789abcdefghijABCDEFGHIJkl', '356O1T'],
  ])('checksums %s as %s', (payload, checksum) => {
    expect(checksumOf(payload)).toBe(checksum);
    expect(parseApiKey(payload + checksum)).not.toBeNull();
  });

  it('left-pads short checksums with 0', () => {
    expect(checksumOf('')).toBe('000000');
  });

  it('generates 46-character keys that parse', () => {
    const sut = generateApiKey('live');
    expect(sut).toHaveLength(46);
    expect(sut).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    expect(parseApiKey(sut)).toEqual({ kind: 'sk', environment: 'live' });
    expect(parseApiKey(generateApiKey('test', 'pk'))).toEqual({ kind: 'pk', environment: 'test' });
    expect(parseApiKey(generateApiKey('live', 'pk'))).toEqual({ kind: 'pk', environment: 'live' });
    expect(parseApiKey(generateApiKey('test'))).toEqual({ kind: 'sk', environment: 'test' });
  });

  it('never repeats', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey('test')));
    expect(keys.size).toBe(1000);
  });

  it('refuses a key with one character changed, a wrong prefix, or a wrong length', () => {
    const key = generateApiKey('test');
    const flipped = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    expect(parseApiKey(flipped)).toBeNull();
    const otherChecksum = key.slice(0, -1) + (key.endsWith('0') ? '1' : '0');
    expect(parseApiKey(otherChecksum)).toBeNull();
    // The same checksum digits, one in the other case: base62 tells them apart.
    const swappedCase =
      key.slice(0, -6) + [...key.slice(-6)].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
    if (swappedCase !== key) expect(parseApiKey(swappedCase)).toBeNull();
    expect(parseApiKey(key.replace('sk_test_', 'sk_prod_'))).toBeNull();
    expect(parseApiKey(key.slice(0, -1))).toBeNull();
    expect(parseApiKey(`${key}x`)).toBeNull();
    expect(parseApiKey('')).toBeNull();
  });

  it('masks with the prefix and the last four characters', () => {
    expect(maskApiKey('sk_live_', '3f9a')).toBe('sk_live_••••••••3f9a');
  });
});

describe('presentedApiKey', () => {
  const key = generateApiKey('test');

  it('reads the three header forms callers use', () => {
    expect(presentedApiKey({ 'x-api-key': ` ${key} ` })).toBe(key);
    expect(presentedApiKey({ authorization: `Bearer ${key}` })).toBe(key);
    expect(presentedApiKey({ authorization: `x-api-key ${key}` })).toBe(key);
    expect(presentedApiKey({ 'x-api-key': [key, 'other'] })).toBe(key);
  });

  it('answers empty when there is no key, so the check says MALFORMED', () => {
    expect(presentedApiKey({})).toBe('');
    expect(presentedApiKey({ 'x-api-key': '' })).toBe('');
    expect(presentedApiKey({ authorization: `Basic ${key}` })).toBe('');
    expect(presentedApiKey({ authorization: 'Bearer' })).toBe('');
  });
});

describe('crc32Fallback', () => {
  it('gives the number zlib.crc32 gives, for the Node 20 releases without it', () => {
    for (const text of ['', 'a', 'sk_test_', generateApiKey('live'), 'ünïcode ✓', 'x'.repeat(1_000)]) {
      expect(crc32Fallback(text)).toBe(crc32(text));
    }
  });
});
