import { GET_KEY_REQUEST, LOOKUP_KEY_REQUEST, messageContract } from '@latchkey/contracts';

import { AppError } from '../errors/app-error';
import { contractParser, MessageContractPipe } from './message-contract.pipe';

const HASH = 'a'.repeat(64);
const PUBLIC_KEY = `pk_live_${'A'.repeat(38)}`;
const KEY_ID = 'key_01J0000000000000000000000A';

function refusal(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('the payload was accepted');
}

describe('MessageContractPipe', () => {
  it('answers a valid message as it was sent', () => {
    const payload = { secret_hash: HASH };
    expect(new MessageContractPipe(LOOKUP_KEY_REQUEST).transform(payload)).toBe(payload);
  });

  it('refuses a bad message with VALIDATION_FAILED, each bad field in the details', () => {
    const error = refusal(() => new MessageContractPipe(GET_KEY_REQUEST).transform({ key_id: 'org_1', extra: 1 }));
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', kind: 'validation', message: 'extra is not a known field' });
    expect(error.details).toEqual([
      { field: 'extra', message: 'extra is not a known field' },
      { field: 'key_id', message: 'key_id must be a key_ id' },
    ]);
  });

  it('runs the refinement after the shape, and only on a message of the right shape', () => {
    const seen: unknown[] = [];
    const pipe = new MessageContractPipe(GET_KEY_REQUEST, (message) => {
      seen.push(message);
      if (message.key_id.endsWith('A')) throw AppError.validation('key_id must not end in A.', [{ field: 'key_id', message: 'ends in A' }]);
    });
    expect(refusal(() => pipe.transform({ key_id: 42 })).details).toEqual([{ field: 'key_id', message: 'key_id must be a key_ id' }]);
    expect(seen).toEqual([]);
    expect(refusal(() => pipe.transform({ key_id: KEY_ID })).message).toBe('key_id must not end in A.');
    expect(seen).toEqual([{ key_id: KEY_ID }]);
  });
});

describe('contractParser', () => {
  it('compiles a contract once, however many handlers share it', () => {
    const contract = messageContract({ type: 'object', required: ['a'], properties: { a: { type: 'string' } } });
    expect(contractParser(contract)).toBe(contractParser(contract));
    expect(contractParser(LOOKUP_KEY_REQUEST)).toBe(contractParser(LOOKUP_KEY_REQUEST));
  });
});

// The wording each key-service contract answers with, as auth-check reads it.
describe('keys.lookup refusals', () => {
  const parse = contractParser(LOOKUP_KEY_REQUEST);

  it('takes a secret hash or a public key, as sent', () => {
    expect(parse({ secret_hash: HASH })).toEqual({ secret_hash: HASH });
    expect(parse({ public_key: PUBLIC_KEY })).toEqual({ public_key: PUBLIC_KEY });
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
    expect(refusal(() => parse(payload)).message).toBe(message);
  });
});

describe('keys.get refusals', () => {
  const parse = contractParser(GET_KEY_REQUEST);

  it('takes a key id', () => {
    expect(parse({ key_id: KEY_ID })).toEqual({ key_id: KEY_ID });
  });

  it.each([
    ['no key_id', {}, 'key_id is required'],
    ['another kind of id', { key_id: 'org_01J0000000000000000000000A' }, 'key_id must be a key_ id'],
    ['an unknown field', { key_id: KEY_ID, secret_hash: HASH }, 'secret_hash is not a known field'],
  ])('refuses %s', (_, payload, message) => {
    expect(refusal(() => parse(payload)).message).toBe(message);
  });
});
