import { SecretBox } from './secret-box';

describe(SecretBox.name, () => {
  const sut = new SecretBox('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');

  it('opens what it sealed', () => {
    const sealed = sut.seal('whsec_top-secret', 'row-1');
    expect(sealed).not.toContain('top-secret');
    expect(sut.open(sealed, 'row-1')).toBe('whsec_top-secret');
  });

  it('refuses a value sealed for another context', () => {
    const sealed = sut.seal('secret', 'row-1');
    expect(() => sut.open(sealed, 'row-2')).toThrow();
  });

  it('refuses a tampered value', () => {
    const sealed = sut.seal('secret');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => sut.open(parts.join('.'))).toThrow();
  });

  it.each([4, 12, 15])('refuses the genuine tag cut down to %i bytes', (length) => {
    const parts = sut.seal('secret').split('.');
    parts[2] = Buffer.from(parts[2], 'base64url').subarray(0, length).toString('base64url');
    expect(() => sut.open(parts.join('.'))).toThrow('not a sealed value');
  });

  it('uses a fresh nonce each time', () => {
    expect(sut.seal('same')).not.toBe(sut.seal('same'));
  });
});
