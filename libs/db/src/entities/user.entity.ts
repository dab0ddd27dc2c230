import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

@Entity({ tableName: 'users' })
export class User {
  [OptionalProps]?: 'createdAt' | 'emailVerifiedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.User);

  /** Stored lower-cased; unique. */
  @Property({ type: 'string', length: 254, unique: true })
  email!: string;

  @Property({ type: 'string', length: 100 })
  name!: string;

  /** argon2id, never returned by any endpoint. */
  @Property({ type: 'string', hidden: true, lazy: true })
  passwordHash!: string;

  /** Set when the user opened the verification link mailed to this address; null until then. */
  @Property({ type: 'datetime', nullable: true })
  emailVerifiedAt: Date | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
