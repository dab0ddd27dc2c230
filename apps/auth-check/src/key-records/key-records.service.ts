import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import CircuitBreaker from 'opossum';

import { AppConfig } from '@latchkey/config';
import { KeyRecord, KeysPattern, LookupKeyRequest } from '@latchkey/contracts';
import { SecretBox } from '@latchkey/crypto';
import { AppError, RpcClient } from '@latchkey/platform';

import { MaybePromise } from '../front-door/maybe-promise';
import { CompiledKey, compileKey } from './compiled-key';
import { CacheKey, KeyRecordCache } from './key-record.cache';
import { KeyRecordRepository } from './key-record.repository';
import { SecretHashMemo } from './secret-hash-memo';

/** The key service answers a lookup in about a millisecond; past this, the direct read is faster. */
const LOOKUP_TIMEOUT_MS = 300;

export interface KeyLookupResult {
  /** null: no such key (or a rolled key's old secret after its grace). */
  key: CompiledKey | null;
  /** The answer is a last known record: neither the key service nor Postgres answered. */
  degraded: boolean;
}

/**
 * Finds the key a presented secret (or public key) belongs to. A cache hit does no
 * I/O. A miss asks the key service over the Redis transport behind a circuit
 * breaker, falls back to a direct read of Postgres, then to the last known record.
 * When none of them can answer for an unknown key, the check fails closed (503).
 */
@Injectable()
export class KeyRecordsService implements OnApplicationShutdown {
  private readonly logger = new Logger(KeyRecordsService.name);
  private readonly box: SecretBox;
  private readonly secretHashes: SecretHashMemo;
  private readonly breaker: CircuitBreaker<[LookupKeyRequest], KeyRecord | null>;
  /** One fetch per cache key at a time: a cold key hit by 40 concurrent checks is looked up once. */
  private readonly inflight = new Map<CacheKey, { ticket: number; result: Promise<KeyLookupResult> }>();

  constructor(
    config: AppConfig,
    private readonly cache: KeyRecordCache,
    private readonly repository: KeyRecordRepository,
    private readonly rpc: RpcClient,
  ) {
    this.box = new SecretBox(config.get('ENCRYPTION_KEY'));
    this.secretHashes = new SecretHashMemo(config.get('KEY_HASH_SECRET'));
    this.breaker = new CircuitBreaker((request: LookupKeyRequest) => this.askKeyService(request), {
      name: KeysPattern.Lookup,
      timeout: LOOKUP_TIMEOUT_MS + 50,
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      resetTimeout: 5_000,
    });
    this.breaker.on('open', () => this.logger.warn('keys.lookup breaker open: reading keys from Postgres'));
    this.breaker.on('close', () => this.logger.log('keys.lookup breaker closed'));
  }

  /** Synchronous on a cache hit. */
  bySecret(secret: string): MaybePromise<KeyLookupResult> {
    const secretHash = this.secretHashes.hmacOf(secret);
    return this.find(`h:${secretHash}`, { secret_hash: secretHash });
  }

  /** Synchronous on a cache hit. */
  byPublicKey(publicKey: string): MaybePromise<KeyLookupResult> {
    return this.find(`p:${publicKey}`, { public_key: publicKey });
  }

  onApplicationShutdown(): void {
    this.breaker.shutdown();
  }

  private find(cacheKey: CacheKey, request: LookupKeyRequest): MaybePromise<KeyLookupResult> {
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return { key: cached, degraded: false };
    const ticket = this.cache.ticket();
    const pending = this.inflight.get(cacheKey);
    // Join a fetch only if no notice came since it started: one that did may be about this key.
    if (pending && pending.ticket === ticket) return pending.result;
    const entry = { ticket, result: this.fetch(cacheKey, request, ticket) };
    this.inflight.set(cacheKey, entry);
    void entry.result
      .finally(() => {
        if (this.inflight.get(cacheKey) === entry) this.inflight.delete(cacheKey);
      })
      .catch(() => undefined);
    return entry.result;
  }

  private async fetch(cacheKey: CacheKey, request: LookupKeyRequest, ticket: number): Promise<KeyLookupResult> {
    let record: KeyRecord | null;
    try {
      record = await this.breaker.fire(request);
    } catch (serviceError) {
      try {
        record = await this.readDatabase(request);
      } catch (databaseError) {
        const lastKnown = this.cache.lastKnownOf(cacheKey);
        this.logger.warn(
          `key lookup failed (service: ${(serviceError as Error).message}; database: ${(databaseError as Error).message})` +
            (lastKnown ? ': answering from the last known record' : ''),
        );
        if (lastKnown) return { key: lastKnown, degraded: true };
        throw new AppError('KEY_LOOKUP_UNAVAILABLE', 'Keys cannot be looked up right now.');
      }
    }
    const key = record ? compileKey(record, this.box) : null;
    this.cache.fill(cacheKey, key, ticket);
    return { key, degraded: false };
  }

  private async askKeyService(request: LookupKeyRequest): Promise<KeyRecord | null> {
    try {
      return await this.rpc.send<KeyRecord>(KeysPattern.Lookup, request, LOOKUP_TIMEOUT_MS);
    } catch (error) {
      // "No such key" is an answer, not a failure: it must not open the breaker.
      if (error instanceof AppError && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  private readDatabase(request: LookupKeyRequest): Promise<KeyRecord | null> {
    return request.secret_hash !== undefined
      ? this.repository.findBySecretHash(request.secret_hash)
      : this.repository.findByPublicKey(request.public_key);
  }
}
