import { generateApiKey, hmacSha256Hex } from '@latchkey/crypto';

import { SecretHashMemo } from './secret-hash-memo';

const HASH_SECRET = 'h'.repeat(32);

describe(SecretHashMemo.name, () => {
  it('gives the HMAC the key is stored by, first time and remembered alike', () => {
    const memo = new SecretHashMemo(HASH_SECRET);
    const [first, second] = [generateApiKey('test'), generateApiKey('live')];
    for (let round = 0; round < 3; round += 1) {
      expect(memo.hmacOf(first)).toBe(hmacSha256Hex(HASH_SECRET, first));
      expect(memo.hmacOf(second)).toBe(hmacSha256Hex(HASH_SECRET, second));
    }
    expect(memo.hmacOf(first)).not.toBe(memo.hmacOf(second));
  });

  it('answers by the deployment secret: another KEY_HASH_SECRET gives another HMAC', () => {
    const secret = generateApiKey('test');
    expect(new SecretHashMemo(HASH_SECRET).hmacOf(secret)).not.toBe(new SecretHashMemo('x'.repeat(32)).hmacOf(secret));
  });
});
