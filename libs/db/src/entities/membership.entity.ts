import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

import { Role, ROLES } from '@latchkey/contracts';
import { IdPrefix, newId } from '@latchkey/ids';

import { Organization } from './organization.entity';
import { User } from './user.entity';

@Entity({ tableName: 'memberships' })
@Unique({ properties: ['organization', 'user'] })
export class Membership {
  [OptionalProps]?: 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'string' })
  id: string = newId(IdPrefix.Membership);

  @ManyToOne(() => Organization, { deleteRule: 'cascade' })
  organization!: Organization;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Enum({ items: () => [...ROLES], type: 'string' })
  role!: Role;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
