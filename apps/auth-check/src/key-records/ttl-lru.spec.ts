import { TtlLru } from './ttl-lru';

describe(TtlLru.name, () => {
  it('evicts the least recently used entry beyond its size, a read counting as a use', () => {
    const lru = new TtlLru<number>(2, 0);
    lru.set('a', 1, 0);
    lru.set('b', 2, 0);
    expect(lru.get('a', 5_000)).toBe(1);
    lru.set('c', 3, 5_000);
    expect(lru.get('b', 5_000)).toBeUndefined();
    expect([lru.get('a', 5_000), lru.get('c', 5_000)]).toEqual([1, 3]);
  });

  it('tells uses apart to the second: reads within a second of the last one do not reorder', () => {
    const lru = new TtlLru<number>(2, 0);
    lru.set('a', 1, 0);
    lru.set('b', 2, 0);
    expect(lru.get('a', 999)).toBe(1);
    lru.set('c', 3, 999);
    expect(lru.get('a', 999)).toBeUndefined();
    expect(lru.size).toBe(2);
  });

  it('treats entries older than the TTL as absent, and a read does not extend them', () => {
    const lru = new TtlLru<string>(10, 1_000);
    lru.set('k', 'v', 0);
    expect(lru.get('k', 999)).toBe('v');
    expect(lru.get('k', 1_000)).toBeUndefined();
    expect(lru.size).toBe(0);
  });
});
