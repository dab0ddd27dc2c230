import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';

import { IsDisplayName, Trimmed, TrimmedLowercase } from '@latchkey/platform';

export class SignupDto {
  @ApiProperty({ example: 'ada@example.com' })
  @TrimmedLowercase()
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ minLength: 12, maxLength: 200, description: 'At least 12 characters.' })
  @IsString()
  @Length(12, 200, { message: 'password must be 12 to 200 characters' })
  password!: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  @Trimmed()
  @IsString()
  @Length(1, 100)
  @IsDisplayName()
  name!: string;

  @ApiProperty({ example: 'Analytical Engines Ltd' })
  @Trimmed()
  @IsString()
  @Length(1, 100)
  @IsDisplayName()
  org_name!: string;
}
