import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length } from 'class-validator';

import { IsDisplayName } from '@latchkey/platform';

export class UpdateOrganizationDto {
  @ApiProperty({ example: 'Analytical Engines Ltd', minLength: 1, maxLength: 100 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @IsDisplayName()
  name!: string;
}
