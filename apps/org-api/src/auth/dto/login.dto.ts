import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, MaxLength } from 'class-validator';

import { IdPrefix } from '@latchkey/ids';
import { IsPrefixedId, TrimmedLowercase } from '@latchkey/platform';

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @TrimmedLowercase()
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty()
  @IsString()
  @Length(1, 200)
  password!: string;

  @ApiPropertyOptional({ description: 'Organisation to act in; defaults to the oldest membership.' })
  @IsOptional()
  @IsString()
  @IsPrefixedId(IdPrefix.Organization)
  org_id?: string;
}
