import { hmacSha256Hex, sha256Hex } from '@latchkey/crypto';

import { TtlLru } from './ttl-lru';

const MAX_SECRETS = 10_000;

/**
 * The HMAC a key is stored and found by, for a presented secret. Computing it builds
 * an HMAC context per call, a large share of a cached check; a plain SHA-256 of the
 * secret costs far less. So recently seen secrets are remembered by their SHA-256 —
 * never in clear — and their HMAC is reused
 * (docs/decisions/0004-keyed-key-hashes-and-secret-hash-memo.md). Nothing here can go
 * stale: the HMAC of a secret never changes while KEY_HASH_SECRET does not.
 */
export class SecretHashMemo {
  private readonly hmacs = new TtlLru<string>(MAX_SECRETS, 0);

  constructor(private readonly hashSecret: string) {}

  hmacOf(secret: string): string {
    const digest = sha256Hex(secret);
    let hmac = this.hmacs.get(digest);
    if (hmac === undefined) {
      hmac = hmacSha256Hex(this.hashSecret, secret);
      this.hmacs.set(digest, hmac);
    }
    return hmac;
  }
}
