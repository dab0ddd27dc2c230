import { sha256Hex } from '@latchkey/crypto';

import { PassingVerdict, VerifyRequestBody } from './verdict';

/** `createVerifier({ outageCache })`: remember passes to answer them while Latchkey is unreachable. */
export interface OutageCacheOptions {
  /** How long a remembered pass may be answered after it was stored. */
  ttlMs: number;
  /** How many passes are remembered; the least recently used goes first. */
  maxEntries: number;
}

interface Entry {
  verdict: PassingVerdict;
  expiresAt: number;
  /** SHA-256 of the key alone: the entry's place in `byKey`. */
  keyHash: string;
}

/**
 * A bounded LRU of passing verdicts, keyed by a SHA-256 of the key and every facet of the
 * request that can change the verdict; the raw key is never kept. Only the Verifier
 * consults it, and only when Latchkey is unreachable.
 */
export class OutageCache {
  /** Insertion order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  /** Each key's entry names, so a refusal forgets them without a scan of every entry. */
  private readonly byKey = new Map<string, Set<string>>();

  constructor(
    private readonly options: OutageCacheOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.ttlMs > 0) || !Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new Error('outageCache needs ttlMs > 0 and an integer maxEntries >= 1');
    }
  }

  /** The entry's name for a request, or undefined when it must not be cached (a signed call: signatures are single-use). */
  static keyOf(body: VerifyRequestBody): string | undefined {
    if (body.signature !== undefined) return undefined;
    const facets = [
      body.key,
      body.environment ?? null,
      body.permissions ? [...body.permissions].sort() : null,
      body.ip ?? null,
      body.referrer ?? null,
      body.method ?? null,
      body.path ?? null,
      body.cost ?? null,
    ];
    return sha256Hex(JSON.stringify(facets));
  }

  remember(name: string, key: string, verdict: PassingVerdict): void {
    this.delete(name);
    const keyHash = sha256Hex(key);
    // Limits and quota are counted by Latchkey per call: numbers from before an outage would mislead.
    this.entries.set(name, { verdict: { ...verdict, rate_limit: null, quota: null }, expiresAt: this.now() + this.options.ttlMs, keyHash });
    let names = this.byKey.get(keyHash);
    if (!names) this.byKey.set(keyHash, (names = new Set()));
    names.add(name);
    while (this.entries.size > this.options.maxEntries) this.delete(this.entries.keys().next().value as string);
  }

  /** The remembered, unexpired pass, marked as answered from the cache; undefined when none. */
  recall(name: string): PassingVerdict | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.delete(name);
      return undefined;
    }
    // Re-inserted: now the most recently used.
    this.entries.delete(name);
    this.entries.set(name, entry);
    return { ...entry.verdict, degraded: true, from_cache: true };
  }

  /** Forgets every remembered pass of this key, whatever the request: a refused key must not pass in a later outage. */
  forgetKey(key: string): void {
    const keyHash = sha256Hex(key);
    for (const name of this.byKey.get(keyHash) ?? []) this.entries.delete(name);
    this.byKey.delete(keyHash);
  }

  private delete(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    const names = this.byKey.get(entry.keyHash);
    names?.delete(name);
    if (names?.size === 0) this.byKey.delete(entry.keyHash);
  }

  /** The names held, least recently used first (for tests: they are hashes, never keys). */
  names(): string[] {
    return [...this.entries.keys()];
  }
}
