import { messagesForUnknownFields, refusedFields } from '../testing/contract-refusals';
import { VERIFY_KEY_REQUEST, VerifyKeyRequest } from './verify-key.messages';

const KEY = `sk_test_${'a'.repeat(38)}`;
const SIGNATURE = { timestamp: 1_700_000_000, value: 'f'.repeat(64), body_sha256: 'A'.repeat(64) };

describe('auth.verify contract (and POST /v1/verify)', () => {
  it.each<[string, VerifyKeyRequest]>([
    ['a key alone', { key: KEY }],
    [
      'every field',
      {
        key: KEY,
        environment: 'live',
        permissions: ['read', 'write'],
        ip: '203.0.113.7',
        referrer: 'https://example.com/page',
        method: 'GET',
        path: '/v1/things',
        cost: 5,
        signature: SIGNATURE,
      },
    ],
  ])('takes %s', (_, payload) => {
    expect(refusedFields(VERIFY_KEY_REQUEST, payload)).toEqual([]);
  });

  it.each<[string, unknown, string[]]>([
    ['no key', {}, ['key']],
    ['a key as a number', { key: 123 }, ['key']],
    ['an over-long key', { key: 'k'.repeat(201) }, ['key']],
    ['an unknown environment', { key: KEY, environment: 'prod' }, ['environment']],
    ['an empty permission', { key: KEY, permissions: ['read', ''] }, ['permissions.1']],
    ['permissions as a string', { key: KEY, permissions: 'read' }, ['permissions']],
    ['a method that is not a token', { key: KEY, method: 'GE T' }, ['method']],
    ['a cost of zero', { key: KEY, cost: 0 }, ['cost']],
    ['a fractional cost', { key: KEY, cost: 1.5 }, ['cost']],
    ['a signature without its body hash', { key: KEY, signature: { timestamp: 1, value: 'v' } }, ['signature.body_sha256']],
    ['a signature with an unknown field', { key: KEY, signature: { ...SIGNATURE, alg: 'sha1' } }, ['signature.alg']],
    ['an unknown field', { key: KEY, org_id: 'org_x' }, ['org_id']],
    ['an array', [KEY], ['body']],
  ])('refuses %s, naming the bad field', (_, payload, fields) => {
    expect(refusedFields(VERIFY_KEY_REQUEST, payload)).toEqual(fields);
  });

  it('types what the schema allows', () => {
    // @ts-expect-error -- environment is one of test, live
    const prod: VerifyKeyRequest = { key: KEY, environment: 'prod' };
    // @ts-expect-error -- key is required
    const keyless: VerifyKeyRequest = { cost: 1 };
    expect([prod, keyless]).toHaveLength(2);
  });

  it('words only fields it has', () => {
    expect(messagesForUnknownFields(VERIFY_KEY_REQUEST)).toEqual([]);
  });
});
