import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';

import { IdPrefix } from '@latchkey/ids';
import { IsPrefixedId } from '@latchkey/platform';

export class SwitchOrgDto {
  @ApiProperty()
  @IsString()
  @IsPrefixedId(IdPrefix.Organization)
  org_id!: string;
}
