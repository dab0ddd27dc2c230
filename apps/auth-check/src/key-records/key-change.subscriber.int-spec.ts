import { Logger } from '@nestjs/common';

import { KEY_CHANGED_CHANNEL, KeyChangedNotice, KeyRecord } from '@latchkey/contracts';
import { RedisClient, RedisService } from '@latchkey/platform';

import { ServiceHarness } from '../../../../test/support/service-harness';
import { waitUntil } from '../../../../test/support/wait-until';
import { CompiledKey } from './compiled-key';
import { KeyChangeSubscriber } from './key-change.subscriber';
import { KeyRecordCache } from './key-record.cache';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const KEY_A = 'key_01J0000000000000000000000A';
const KEY_B = 'key_01J0000000000000000000000B';

function compiled(id: string): CompiledKey {
  const record = { id, org_id: 'org_1', environment: 'test' } as KeyRecord;
  return { record, ipRanges: [], referrers: [], endpoints: [], signingSecret: null, previousSigningSecret: null };
}

function notice(keyId: string, hash: string): KeyChangedNotice {
  return { key_id: keyId, org_id: 'org_1', secret_hashes: [hash], public_key: null, change: 'revoked' };
}

/**
 * The keys:changed subscriber on this file's Redis: a notice matching KEY_CHANGED_NOTICE
 * evicts the key it names and no other; anything else cannot name its keys, so it is
 * logged and flushes the whole cache.
 */
describe(KeyChangeSubscriber.name, () => {
  let harness: ServiceHarness;
  let cache: KeyRecordCache;
  let redis: RedisClient;
  let channel: string;
  let warnings: string[];

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [KeyChangeSubscriber, KeyRecordCache, RedisService] });
    cache = harness.get(KeyRecordCache);
    channel = harness.get(RedisService).key(KEY_CHANGED_CHANNEL);
    redis = harness.redis();
    const subscribers = async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1];
    await waitUntil(async () => (await subscribers()) >= 1, 10_000, 'the subscriber to subscribe');
  });

  afterAll(async () => {
    await harness?.close();
  });

  beforeEach(() => {
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    // Both keys cached afresh (after the first subscribe's flush).
    expect(cache.fill(`h:${HASH_A}`, compiled(KEY_A), cache.ticket())).toBe(true);
    expect(cache.fill(`h:${HASH_B}`, compiled(KEY_B), cache.ticket())).toBe(true);
  });

  afterEach(() => jest.restoreAllMocks());

  const publish = (message: unknown) => redis.publish(channel, typeof message === 'string' ? message : JSON.stringify(message));
  const evicted = (hash: string) => waitUntil(() => cache.get(`h:${hash}`) === undefined, 10_000, `h:${hash} to leave the cache`);

  it('evicts the key a notice names', async () => {
    await publish(notice(KEY_B, HASH_B));
    await evicted(HASH_B);
    expect(cache.get(`h:${HASH_A}`)?.record.id).toBe(KEY_A);
  });

  it.each<[string, unknown, string]>([
    ['not JSON', '{"key_id":', 'not JSON'],
    ['without its secret hashes', { ...notice(KEY_A, HASH_A), secret_hashes: undefined }, '/ required'],
    ['with hashes that are not hashes', { ...notice(KEY_A, HASH_A), secret_hashes: [42] }, '/secret_hashes/0 type'],
    ['with an unknown change', { ...notice(KEY_A, HASH_A), change: 'exploded' }, '/change enum'],
    ['that is not an object', [HASH_A], '/ type'],
  ])('flushes the cache and logs on a notice %s', async (_, message, said) => {
    await publish(message);
    await evicted(HASH_A);
    await evicted(HASH_B);

    expect(warnings).toEqual([expect.stringContaining(said)]);
    // The log names fields, never what they held.
    expect(warnings.join('\n')).not.toContain(HASH_A);
  });
});
