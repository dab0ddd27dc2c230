import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { KeyRecord } from '@latchkey/contracts';
import { findKeyRecordById, findKeyRecordByPublicKey, findKeyRecordBySecretHash } from '@latchkey/db';
import { AppError } from '@latchkey/platform';

/**
 * Finds keys for auth-check's cache misses (`keys.lookup`, `keys.get`), read-only.
 * The lookup itself lives in libs/db so auth-check's direct read gives the same answer.
 */
@Injectable()
export class KeyLookupService {
  constructor(private readonly em: EntityManager) {}

  async bySecretHash(secretHash: string, now = new Date()): Promise<KeyRecord> {
    return found(await findKeyRecordBySecretHash(this.em, secretHash, now));
  }

  async byPublicKey(publicKey: string, now = new Date()): Promise<KeyRecord> {
    return found(await findKeyRecordByPublicKey(this.em, publicKey, now));
  }

  async byId(keyId: string, now = new Date()): Promise<KeyRecord> {
    return found(await findKeyRecordById(this.em, keyId, now));
  }
}

function found(record: KeyRecord | null): KeyRecord {
  if (!record) throw AppError.notFound('API key');
  return record;
}
