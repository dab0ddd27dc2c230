import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { IdPrefix, newId } from '@latchkey/ids';

export const UserTokenPurpose = {
  VerifyEmail: 'verify_email',
  PasswordReset: 'password_reset',
} as const;
export type UserTokenPurpose = (typeof UserTokenPurpose)[keyof typeof UserTokenPurpose];

/**
 * A single-use, expiring token mailed to a user. Only its SHA-256 hash is stored, so
 * a database leak hands out no working link; it is found by that hash.
 */
@Entity({ tableName: 'user_tokens' })
export class UserToken {
  [OptionalProps]?: 'createdAt' | 'usedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.UserToken);

  @Property({ type: 'string' })
  userId!: string;

  @Enum({ items: () => Object.values(UserTokenPurpose), type: 'string' })
  purpose!: UserTokenPurpose;

  @Property({ type: 'string', length: 64, unique: true })
  tokenHash!: string;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
