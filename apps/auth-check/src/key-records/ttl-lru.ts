/** How recent "recently used" is told apart: see TtlLru. */
const RECENCY_RESOLUTION_MS = 1_000;

/**
 * A bounded map that forgets its least recently used entry first and, when given a
 * TTL, treats older entries as absent. A Map keeps insertion order, so re-inserting
 * on a hit is all the bookkeeping an LRU needs: no timers, no I/O. A hit re-inserts
 * an entry at most once a second: every re-insert leaves a hole that V8 later
 * compacts by rehashing the whole Map, which a hot key read 20,000 times a second
 * made a visible cost; recency to the second is all an eviction order needs.
 */
export class TtlLru<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number; usedAt: number }>();

  constructor(
    private readonly maxEntries: number,
    /** 0: entries never expire (they still get evicted by size). */
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.ttlMs > 0 && entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (now - entry.usedAt >= RECENCY_RESOLUTION_MS) {
      entry.usedAt = now;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry.value;
  }

  set(key: string, value: V, now = Date.now()): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + this.ttlMs, usedAt: now });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose value matches (a notice names a key id, not every cache key). */
  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (predicate(entry.value)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
