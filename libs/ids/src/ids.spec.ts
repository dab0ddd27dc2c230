import { decodeTime } from 'ulid';

import { isIdOf, isUlidTime, newId, newUlid, ulidAt } from './ids';

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

describe('bare ULIDs', () => {
  const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

  it('newUlid increases and never repeats', () => {
    const ids = Array.from({ length: 5_000 }, () => newUlid());
    expect(ids.every((id) => ULID.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('ulidAt carries the given time, with a fresh random part each time', () => {
    const at = Date.UTC(2026, 10, 30, 3, 0, 0, 7);
    const ids = Array.from({ length: 1_000 }, () => ulidAt(at));
    expect(ids.every((id) => ULID.test(id) && decodeTime(id) === at)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ulidAt(at - 1) < ulidAt(at)).toBe(true);
    expect(() => ulidAt(0)).toThrow(RangeError);
    expect(() => ulidAt(Number.NaN)).toThrow(RangeError);
    expect(() => ulidAt(2 ** 48)).toThrow(RangeError);
  });

  it('isUlidTime says which times ulidAt takes', () => {
    expect([1, Date.UTC(2026, 10, 30), 2 ** 48 - 1].every(isUlidTime)).toBe(true);
    expect([0, -1, 1.5, Number.NaN, 2 ** 48].some(isUlidTime)).toBe(false);
    expect(ulidAt(2 ** 48 - 1).startsWith('7ZZZZZZZZZ')).toBe(true);
  });
});
