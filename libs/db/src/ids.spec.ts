import { isIdOf, newId } from './ids';

describe('newId', () => {
  it('makes prefixed ids that sort by creation and never repeat', () => {
    const ids = Array.from({ length: 10_000 }, () => newId('key'));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => isIdOf('key', id))).toBe(true);
  });

  it('spreads the random part over the whole alphabet', () => {
    const characters = new Set(Array.from({ length: 2_000 }, () => newId('req').slice(-16)).join(''));
    expect(characters.size).toBe(32);
  });

  it('recognises only well-formed ids of the asked kind', () => {
    expect(isIdOf('org', newId('org'))).toBe(true);
    expect(isIdOf('org', newId('usr'))).toBe(false);
    expect(isIdOf('org', 'org_not-an-id')).toBe(false);
  });
});
