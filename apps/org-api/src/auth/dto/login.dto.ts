import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
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
  @Matches(/^org_[0-9A-HJKMNP-TV-Z]{26}$/, { message: 'org_id must be an org_ id' })
  org_id?: string;
}
