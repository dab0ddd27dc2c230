import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { KeyRecord } from '@latchkey/contracts';
import { findKeyRecordByPublicKey, findKeyRecordBySecretHash } from '@latchkey/db';

/**
 * auth-check's direct read of a key, used only when the key service does not
 * answer: the same lookup key-issuer's `keys.lookup` runs (libs/db key-records),
 * a plain select that touches no identity map and so needs no request context.
 */
@Injectable()
export class KeyRecordRepository {
  constructor(private readonly em: EntityManager) {}

  findBySecretHash(secretHash: string, now = new Date()): Promise<KeyRecord | null> {
    return findKeyRecordBySecretHash(this.em, secretHash, now);
  }

  findByPublicKey(publicKey: string, now = new Date()): Promise<KeyRecord | null> {
    return findKeyRecordByPublicKey(this.em, publicKey, now);
  }
}
