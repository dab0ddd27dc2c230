import { messagesForUnknownFields, refusedFields } from '../testing/contract-refusals';
import { GET_KEY_REQUEST, GetKeyRequest, LOOKUP_KEY_REQUEST, LookupKeyRequest } from './keys.messages';

const HASH = 'a'.repeat(64);
const PUBLIC_KEY = `pk_live_${'A'.repeat(38)}`;
const KEY_ID = 'key_01J0000000000000000000000A';

describe('keys.lookup contract', () => {
  it.each<[string, LookupKeyRequest]>([
    ['a secret hash', { secret_hash: HASH }],
    ['a test public key', { public_key: `pk_test_${'0'.repeat(38)}` }],
    ['a live public key', { public_key: PUBLIC_KEY }],
  ])('takes %s', (_, payload) => {
    expect(refusedFields(LOOKUP_KEY_REQUEST, payload)).toEqual([]);
  });

  it.each<[string, unknown, string[]]>([
    ['nothing', {}, ['body']],
    ['both', { secret_hash: HASH, public_key: PUBLIC_KEY }, ['body']],
    ['not an object', HASH, ['body']],
    ['an upper-case hash', { secret_hash: HASH.toUpperCase() }, ['secret_hash']],
    ['the clear secret', { secret_hash: `sk_test_${'a'.repeat(38)}` }, ['secret_hash']],
    ['a hash as a number', { secret_hash: 42 }, ['secret_hash']],
    ['a secret key as public key', { public_key: `sk_live_${'A'.repeat(38)}` }, ['public_key']],
    ['an unknown field beside a good hash', { secret_hash: HASH, org_id: 'org_x' }, ['body', 'org_id']],
  ])('refuses %s, naming the bad field', (_, payload, fields) => {
    expect(refusedFields(LOOKUP_KEY_REQUEST, payload)).toEqual(fields);
  });

  it('types the message as exactly one of its fields, as the schema allows', () => {
    const byHash: LookupKeyRequest = { secret_hash: HASH };
    // @ts-expect-error -- the schema allows one field, so the type does not take both
    const both: LookupKeyRequest = { secret_hash: HASH, public_key: PUBLIC_KEY };
    // @ts-expect-error -- nor none
    const none: LookupKeyRequest = {};
    expect([byHash, both, none]).toHaveLength(3);
  });

  it('words only fields it has', () => {
    expect(messagesForUnknownFields(LOOKUP_KEY_REQUEST)).toEqual([]);
  });
});

describe('keys.get contract', () => {
  it('takes a key id', () => {
    const payload: GetKeyRequest = { key_id: KEY_ID };
    expect(refusedFields(GET_KEY_REQUEST, payload)).toEqual([]);
  });

  it.each<[string, unknown, string[]]>([
    ['no key_id', {}, ['key_id']],
    ['another kind of id', { key_id: 'org_01J0000000000000000000000A' }, ['key_id']],
    ['a key id with a lower-case body', { key_id: KEY_ID.toLowerCase() }, ['key_id']],
    ['an unknown field', { key_id: KEY_ID, secret_hash: HASH }, ['secret_hash']],
    ['an array', [KEY_ID], ['body']],
  ])('refuses %s, naming the bad field', (_, payload, fields) => {
    expect(refusedFields(GET_KEY_REQUEST, payload)).toEqual(fields);
  });

  it('words only fields it has', () => {
    expect(messagesForUnknownFields(GET_KEY_REQUEST)).toEqual([]);
  });
});
