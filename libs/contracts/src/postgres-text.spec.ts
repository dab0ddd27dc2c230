import { isPostgresText } from './postgres-text';

describe('isPostgresText', () => {
  it.each([
    ['plain ASCII', '/v1/items/42?x=1'],
    ['the empty string', ''],
    ['accents and CJK', 'café 東京'],
    ['an astral character (a surrogate pair)', 'key 😀 ok'],
    ['latin-1 bytes read from a header', 'caf\u00e9\u00ff'],
  ])('accepts %s', (_name, value) => {
    expect(isPostgresText(value)).toBe(true);
  });

  it.each([
    ['a NUL byte', '/v1/a\u0000b'],
    ['a lone high surrogate', 'GET\ud800'],
    ['a lone low surrogate', '\udc00/path'],
    ['a pair followed by a lone half', '😀\ud83d'],
    ['two high halves in a row', '\ud83d\ud83d'],
  ])('refuses %s', (_name, value) => {
    expect(isPostgresText(value)).toBe(false);
  });
});
