import { Injectable } from '@nestjs/common';

import { AppConfig } from '@latchkey/config';
import { KeyChangedNotice } from '@latchkey/contracts';

import { CompiledKey } from './compiled-key';
import { TtlLru } from './ttl-lru';

const MAX_KEYS = 10_000;
const MAX_UNKNOWN = 10_000;
const MAX_LAST_KNOWN = 10_000;
/** How many recent notices the race check remembers; older ones are covered by `forgottenUpTo`. */
const MAX_REMEMBERED_CHANGES = 10_000;

/** `h:<secret hash>` or `p:<public key>`: how a presented key is looked up. */
export type CacheKey = string;

/**
 * The in-process key cache: positive entries (TTL = KEY_CACHE_TTL_SECONDS, the
 * backstop when a notice is lost), negative entries for unknown keys (bounded, so a
 * flood of made-up keys cannot grow memory), and the last known record of each key
 * (no TTL) for when neither the key service nor Postgres answers.
 *
 * Race: a fetch that started before a change notice may return the record as it
 * was before the change. Every notice bumps a sequence number and remembers it for
 * the cache keys and key id it names; a fetch takes a ticket (the sequence number
 * when it started) and its result is cached only if nothing it could be about
 * changed after that ticket. So a revoke racing a fill never leaves a stale entry.
 */
@Injectable()
export class KeyRecordCache {
  private readonly keys: TtlLru<CompiledKey>;
  private readonly unknown: TtlLru<true>;
  private readonly lastKnown = new TtlLru<CompiledKey>(MAX_LAST_KNOWN, 0);
  private sequence = 0;
  private flushedAt = 0;
  private forgottenUpTo = 0;
  private readonly changedAt = new Map<string, number>();

  constructor(config: AppConfig) {
    const ttlMs = config.get('KEY_CACHE_TTL_SECONDS') * 1000;
    this.keys = new TtlLru(MAX_KEYS, ttlMs);
    this.unknown = new TtlLru(MAX_UNKNOWN, ttlMs);
  }

  /** A cached key, `null` for a cached unknown key, `undefined` when the cache does not know. */
  get(cacheKey: CacheKey, now = Date.now()): CompiledKey | null | undefined {
    const key = this.keys.get(cacheKey, now);
    if (key) return key;
    return this.unknown.get(cacheKey, now) ? null : undefined;
  }

  lastKnownOf(cacheKey: CacheKey): CompiledKey | undefined {
    return this.lastKnown.get(cacheKey);
  }

  ticket(): number {
    return this.sequence;
  }

  /** Stores a fetched answer unless a notice (or a flush) since `ticket` may have made it stale. */
  fill(cacheKey: CacheKey, key: CompiledKey | null, ticket: number): boolean {
    if (this.changedSince(ticket, cacheKey, key?.record.id)) return false;
    if (key) {
      this.keys.set(cacheKey, key);
      this.lastKnown.set(cacheKey, key);
      this.unknown.delete(cacheKey);
    } else {
      this.unknown.set(cacheKey, true);
      this.lastKnown.delete(cacheKey);
    }
    return true;
  }

  /** A key changed: drop every cached form of it at once (both secrets, its public key, by id). */
  invalidate(notice: KeyChangedNotice): void {
    this.sequence += 1;
    const names = [...notice.secret_hashes.map((hash) => `h:${hash}`), ...(notice.public_key ? [`p:${notice.public_key}`] : [])];
    for (const name of [...names, `id:${notice.key_id}`]) this.remember(name);
    for (const name of names) {
      this.keys.delete(name);
      this.unknown.delete(name);
      this.lastKnown.delete(name);
    }
    const sameKey = (cached: CompiledKey) => cached.record.id === notice.key_id;
    this.keys.deleteWhere(sameKey);
    this.lastKnown.deleteWhere(sameKey);
  }

  /**
   * Forget every fresh entry: pub/sub loses notices while the subscriber is away,
   * so after a (re)subscribe nothing cached before it can be trusted. Last known
   * records stay: they only answer while the key service and Postgres are both down.
   */
  flush(): void {
    this.sequence += 1;
    this.flushedAt = this.sequence;
    this.keys.clear();
    this.unknown.clear();
  }

  private changedSince(ticket: number, cacheKey: CacheKey, keyId: string | undefined): boolean {
    if (this.flushedAt > ticket || this.forgottenUpTo > ticket) return true;
    if ((this.changedAt.get(cacheKey) ?? 0) > ticket) return true;
    return keyId !== undefined && (this.changedAt.get(`id:${keyId}`) ?? 0) > ticket;
  }

  private remember(name: string): void {
    this.changedAt.delete(name);
    this.changedAt.set(name, this.sequence);
    if (this.changedAt.size > MAX_REMEMBERED_CHANGES) {
      const [oldest, at] = this.changedAt.entries().next().value as [string, number];
      this.changedAt.delete(oldest);
      this.forgottenUpTo = Math.max(this.forgottenUpTo, at);
    }
  }
}
