import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, MaxLength } from 'class-validator';

import { Role, ROLES } from '@latchkey/contracts';

// Emails are compared and stored lower-cased and trimmed, as signup and login store them.
const trimLower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class AddMemberDto {
  @ApiProperty({ example: 'grace@example.com', description: 'An account with this email joins at once; any other email is invited.' })
  @Transform(trimLower)
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ enum: ROLES, description: 'Only an owner can add an owner.' })
  @IsIn(ROLES, { message: `role must be one of: ${ROLES.join(', ')}` })
  role!: Role;
}
