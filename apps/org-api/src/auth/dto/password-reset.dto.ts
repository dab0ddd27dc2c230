import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';

import { TrimmedLowercase } from '@latchkey/platform';

export class PasswordResetDto {
  @ApiProperty({ example: 'ada@example.com' })
  @TrimmedLowercase()
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;
}

export class PasswordResetConfirmDto {
  @ApiProperty({ description: 'The token from the reset email.' })
  @IsString()
  @Length(1, 200)
  token!: string;

  @ApiProperty({ minLength: 12, maxLength: 200, description: 'At least 12 characters.' })
  @IsString()
  @Length(12, 200, { message: 'password must be 12 to 200 characters' })
  password!: string;
}
