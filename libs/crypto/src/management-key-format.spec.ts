import { checksumOf } from './api-key-format';
import { generateManagementKey, isWellFormedManagementKey, looksLikeManagementKey, MANAGEMENT_KEY_LENGTH } from './management-key-format';

describe('management key format', () => {
  it('generates 46-character lk_mgmt_ tokens whose checksum holds', () => {
    const sut = generateManagementKey();
    expect(sut).toHaveLength(MANAGEMENT_KEY_LENGTH);
    expect(sut).toMatch(/^lk_mgmt_[0-9A-Za-z]{38}$/);
    expect(sut.slice(-6)).toBe(checksumOf(sut.slice(0, -6)));
    expect(isWellFormedManagementKey(sut)).toBe(true);
    expect(looksLikeManagementKey(sut)).toBe(true);
  });

  it('never repeats', () => {
    expect(new Set(Array.from({ length: 1000 }, () => generateManagementKey())).size).toBe(1000);
  });

  it('refuses a changed character, a changed checksum, a wrong prefix or length', () => {
    const key = generateManagementKey();
    const flipped = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    expect(isWellFormedManagementKey(flipped)).toBe(false);
    expect(isWellFormedManagementKey(key.slice(0, -1) + (key.endsWith('0') ? '1' : '0'))).toBe(false);
    expect(isWellFormedManagementKey(key.replace('lk_mgmt_', 'lk_mgmx_'))).toBe(false);
    expect(isWellFormedManagementKey(key + 'a')).toBe(false);
    expect(isWellFormedManagementKey(key.slice(0, -7) + key.slice(-6))).toBe(false);
    expect(isWellFormedManagementKey('')).toBe(false);
  });

  it('is not an API key or a session token', () => {
    expect(looksLikeManagementKey('sk_live_0123456789abcdefghijABCDEFGHIJkl2OgMyZ')).toBe(false);
    expect(looksLikeManagementKey('lks_abc')).toBe(false);
  });
});
