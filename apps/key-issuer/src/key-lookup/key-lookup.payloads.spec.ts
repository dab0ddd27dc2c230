import { parseGetKeyRequest, parseLookupKeyRequest } from './key-lookup.payloads';

const HASH = 'a'.repeat(64);
const PUBLIC_KEY = `pk_live_${'A'.repeat(38)}`;
const KEY_ID = 'key_01J0000000000000000000000A';

describe('keys.lookup payload', () => {
  it('takes a secret hash or a public key, as sent', () => {
    expect(parseLookupKeyRequest({ secret_hash: HASH })).toEqual({ secret_hash: HASH });
    expect(parseLookupKeyRequest({ public_key: PUBLIC_KEY })).toEqual({ public_key: PUBLIC_KEY });
  });

  it.each([
    ['nothing', {}, 'send exactly one of secret_hash, public_key'],
    ['both', { secret_hash: HASH, public_key: PUBLIC_KEY }, 'send exactly one of secret_hash, public_key'],
    ['not an object', HASH, 'send exactly one of secret_hash, public_key'],
    ['an upper-case hash', { secret_hash: HASH.toUpperCase() }, 'secret_hash must be 64 lower-case hex characters (HMAC-SHA-256)'],
    ['the clear secret', { secret_hash: `sk_test_${'a'.repeat(38)}` }, 'secret_hash must be 64 lower-case hex characters (HMAC-SHA-256)'],
    ['a hash as a number', { secret_hash: 42 }, 'secret_hash must be 64 lower-case hex characters (HMAC-SHA-256)'],
    ['a secret key as public key', { public_key: `sk_live_${'A'.repeat(38)}` }, 'public_key must be a pk_test_ or pk_live_ key'],
    // The unknown field is named, though it also makes two fields.
    ['an unknown field beside a good hash', { secret_hash: HASH, org_id: 'org_x' }, 'org_id is not a known field'],
  ])('refuses %s, saying what to send', (_, payload, message) => {
    // jsonSchemaParser's own spec pins what it throws (a VALIDATION_FAILED AppError); here, which message.
    expect(() => parseLookupKeyRequest(payload)).toThrow(message);
  });
});

describe('keys.get payload', () => {
  it('takes a key id', () => {
    expect(parseGetKeyRequest({ key_id: KEY_ID })).toEqual({ key_id: KEY_ID });
  });

  it.each([
    ['no key_id', {}, 'key_id is required'],
    ['another kind of id', { key_id: 'org_01J0000000000000000000000A' }, 'key_id must be a key_ id'],
    ['an unknown field', { key_id: KEY_ID, secret_hash: HASH }, 'secret_hash is not a known field'],
  ])('refuses %s', (_, payload, message) => {
    expect(() => parseGetKeyRequest(payload)).toThrow(message);
  });
});
