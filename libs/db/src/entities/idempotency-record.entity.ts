import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * The first answer to a POST carrying an `Idempotency-Key` (Stripe's semantics),
 * kept 24 hours per scope (organisation or caller) and key. The body is sealed
 * (AES-256-GCM) because it may hold a secret shown once, such as a new API key.
 */
@Entity({ tableName: 'idempotency_records' })
export class IdempotencyRecord {
  [OptionalProps]?: 'responseStatus' | 'responseSealed' | 'createdAt';

  @PrimaryKey({ type: 'string' })
  scope!: string;

  @PrimaryKey({ type: 'string', length: 255 })
  key!: string;

  /** SHA-256 of method, path and body: the same key with another request is a 409. */
  @Property({ type: 'string', length: 64 })
  requestHash!: string;

  @Property({ type: 'integer', nullable: true })
  responseStatus: number | null = null;

  @Property({ type: 'text', nullable: true, hidden: true })
  responseSealed: string | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime' })
  expiresAt!: Date;
}
