import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

import { Role, ROLES } from '@latchkey/contracts';
import { IdPrefix, newId } from '@latchkey/ids';

import { Organization } from './organization.entity';

export const InvitationState = {
  Pending: 'pending',
  Accepted: 'accepted',
  Declined: 'declined',
  Revoked: 'revoked',
} as const;
export type InvitationState = (typeof InvitationState)[keyof typeof InvitationState];

/**
 * An offer of a membership, mailed to an address as a single-use token. It becomes a
 * membership only when a logged-in user whose verified email is that address accepts
 * it before it expires. One pending invitation per organisation and address (a
 * partial unique index); answered ones are kept as history.
 */
@Entity({ tableName: 'invitations' })
export class Invitation {
  [OptionalProps]?: 'createdAt' | 'status' | 'respondedAt' | 'tokenHash';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.Invitation);

  @ManyToOne(() => Organization, { deleteRule: 'cascade' })
  organization!: Organization;

  @Property({ type: 'string', length: 254 })
  email!: string;

  @Enum({ items: () => [...ROLES], type: 'string' })
  role!: Role;

  @Property({ type: 'string' })
  invitedBy!: string;

  /** SHA-256 of the mailed token; null for invitations from before tokens (resend issues one). */
  @Property({ type: 'string', length: 64, nullable: true, unique: true, hidden: true })
  tokenHash: string | null = null;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Enum({ items: () => Object.values(InvitationState), type: 'string' })
  status: InvitationState = InvitationState.Pending;

  @Property({ type: 'datetime', nullable: true })
  respondedAt: Date | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
