import { decodeTime } from 'ulid';

import { IdPrefix, isIdOf, isUlidTime, newId, newUlid, ulidAt, ulidLowerBoundAt } from './ids';

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

describe('ulidLowerBoundAt', () => {
  const time = Date.UTC(2026, 10, 20, 8, 30);
  const idAt = (ms: number) => `${IdPrefix.Session}_${ulidAt(ms)}`;
  const bound = `${IdPrefix.Session}_${ulidLowerBoundAt(time)}`;

  it('is a ULID of the time with a random part of zeros', () => {
    expect(ulidLowerBoundAt(time)).toMatch(/^[0-9A-HJKMNP-TV-Z]{10}0{16}$/);
    expect(decodeTime(ulidLowerBoundAt(time))).toBe(time);
  });

  it('sorts after every id made before the time', () => {
    for (const ms of [time - 1, time - 86_400_000, Date.UTC(2020, 0, 1)]) expect(idAt(ms) < bound).toBe(true);
  });

  it('sorts before every id made at the time or later', () => {
    for (const ms of [time, time + 1, Date.UTC(2030, 0, 1)]) expect(idAt(ms) < bound).toBe(false);
  });

  it('throws for a time a ULID cannot carry, as ulidAt does', () => {
    for (const ms of [0, -1, 1.5, Number.NaN, 2 ** 48]) expect(() => ulidLowerBoundAt(ms)).toThrow(RangeError);
  });
});
