import { Entity, OptionalProps, Enum, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';

import { IdPrefix, newId } from '../ids';
import { Organization } from './organization.entity';
import { Role, ROLES } from './role';

/**
 * A membership waiting for its user: created when an admin adds an email that has
 * no account yet, and turned into a membership when that email signs up or logs in.
 */
@Entity({ tableName: 'invitations' })
@Unique({ properties: ['organization', 'email'] })
export class Invitation {
  [OptionalProps]?: 'createdAt';

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

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
