import { oneLine } from './one-line';

describe(oneLine.name, () => {
  it('flattens line breaks and control characters, keeping the rest of the text', () => {
    expect(oneLine('Acme\r\n\r\nSECURITY NOTICE: go to https://evil.example')).toBe('Acme SECURITY NOTICE: go to https://evil.example');
    expect(oneLine('a\u2028b\u2029c\u0000d\u007fe\u0085f')).toBe('a b c d e f');
    expect(oneLine('  Café 東京 😀  ')).toBe('Café 東京 😀');
  });
});
