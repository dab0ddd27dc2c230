import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export class SwitchOrgDto {
  @ApiProperty()
  @IsString()
  @Matches(/^org_[0-9A-HJKMNP-TV-Z]{26}$/, { message: 'org_id must be an org_ id' })
  org_id!: string;
}
