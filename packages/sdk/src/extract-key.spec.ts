import { generateApiKey } from '@latchkey/crypto';

import { extractKey } from './extract-key';

describe(extractKey.name, () => {
  const key = generateApiKey('live');

  it('reads the three header forms, from plain objects and Fetch Headers', () => {
    expect(extractKey({ 'x-api-key': key })).toBe(key);
    expect(extractKey({ authorization: `Bearer ${key}` })).toBe(key);
    expect(extractKey({ authorization: `x-api-key ${key}` })).toBe(key);
    expect(extractKey(new Headers({ Authorization: `Bearer ${key}` }))).toBe(key);
    expect(extractKey(new Headers({ 'X-Api-Key': key }))).toBe(key);
  });

  it('answers empty when no form is there', () => {
    expect(extractKey({})).toBe('');
    expect(extractKey({ authorization: `Basic ${key}` })).toBe('');
    expect(extractKey(new Headers())).toBe('');
  });
});
