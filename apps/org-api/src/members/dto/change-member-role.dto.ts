import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';

import { Role, ROLES } from '@latchkey/contracts';

export class ChangeMemberRoleDto {
  @ApiProperty({ enum: ROLES, description: "Only an owner can promote to owner or change an owner's role." })
  @IsIn(ROLES, { message: `role must be one of: ${ROLES.join(', ')}` })
  role!: Role;
}
