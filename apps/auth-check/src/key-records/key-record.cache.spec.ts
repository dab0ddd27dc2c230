import { AppConfig } from '@latchkey/config';
import { KeyChangedNotice, KeyRecord } from '@latchkey/contracts';

import { CompiledKey } from './compiled-key';
import { KeyRecordCache } from './key-record.cache';

function config(ttlSeconds = 10): AppConfig {
  return { get: (name: string) => (name === 'KEY_CACHE_TTL_SECONDS' ? ttlSeconds : undefined) } as unknown as AppConfig;
}

function compiled(id = 'key_1'): CompiledKey {
  const record = { id, org_id: 'org_1', environment: 'test' } as KeyRecord;
  return { record, ipRanges: [], referrers: [], endpoints: [], signingSecret: null, previousSigningSecret: null };
}

function notice(fields: Partial<KeyChangedNotice> = {}): KeyChangedNotice {
  return { key_id: 'key_1', org_id: 'org_1', secret_hashes: ['aaa'], public_key: null, change: 'revoked', ...fields };
}

describe(KeyRecordCache.name, () => {
  it('answers a filled key, and null for a filled unknown key', () => {
    const sut = new KeyRecordCache(config());
    expect(sut.get('h:aaa')).toBeUndefined();
    sut.fill('h:aaa', compiled(), sut.ticket());
    sut.fill('h:bbb', null, sut.ticket());
    expect(sut.get('h:aaa')?.record.id).toBe('key_1');
    expect(sut.get('h:bbb')).toBeNull();
  });

  it('forgets an entry after the TTL but keeps it as the last known record', () => {
    const sut = new KeyRecordCache(config(1));
    sut.fill('h:aaa', compiled(), sut.ticket());
    expect(sut.get('h:aaa', Date.now() + 1_001)).toBeUndefined();
    expect(sut.lastKnownOf('h:aaa')?.record.id).toBe('key_1');
  });

  it('drops a key on its notice: by secret hash, public key and key id', () => {
    const sut = new KeyRecordCache(config());
    sut.fill('h:aaa', compiled(), sut.ticket());
    sut.fill('p:pk_1', compiled(), sut.ticket());
    sut.fill('h:other-hash', compiled(), sut.ticket());
    sut.invalidate(notice({ secret_hashes: ['aaa'], public_key: null }));
    expect(sut.get('h:aaa')).toBeUndefined();
    // Found by key id even though the notice did not name these cache keys.
    expect(sut.get('p:pk_1')).toBeUndefined();
    expect(sut.get('h:other-hash')).toBeUndefined();
    expect(sut.lastKnownOf('h:aaa')).toBeUndefined();
  });

  it('never stores a fetch that started before a notice about the same key (revoke racing a fill)', () => {
    const sut = new KeyRecordCache(config());
    const ticket = sut.ticket();
    sut.invalidate(notice({ secret_hashes: ['zzz'] })); // names key_1 by id only
    expect(sut.fill('h:aaa', compiled('key_1'), ticket)).toBe(false);
    expect(sut.get('h:aaa')).toBeUndefined();
    // Another key's fetch is unaffected; a fetch started after the notice is stored.
    expect(sut.fill('h:ccc', compiled('key_2'), ticket)).toBe(true);
    expect(sut.fill('h:aaa', compiled('key_1'), sut.ticket())).toBe(true);
  });

  it('never stores a negative answer fetched before a notice naming its cache key', () => {
    const sut = new KeyRecordCache(config());
    const ticket = sut.ticket();
    sut.invalidate(notice({ secret_hashes: ['new'], change: 'created' }));
    expect(sut.fill('h:new', null, ticket)).toBe(false);
    expect(sut.get('h:new')).toBeUndefined();
  });

  it('flushes every fresh entry on a (re)subscribe, and refuses fills that started before it', () => {
    const sut = new KeyRecordCache(config());
    sut.fill('h:aaa', compiled(), sut.ticket());
    sut.fill('h:bbb', null, sut.ticket());
    const ticket = sut.ticket();
    sut.flush();
    expect(sut.get('h:aaa')).toBeUndefined();
    expect(sut.get('h:bbb')).toBeUndefined();
    expect(sut.lastKnownOf('h:aaa')).toBeDefined();
    expect(sut.fill('h:aaa', compiled(), ticket)).toBe(false);
  });
});
