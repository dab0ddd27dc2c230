import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

import { LiveAccessStatus } from '@latchkey/db';
import { PageQueryDto } from '@latchkey/platform';

const LIVE_ACCESS_STATES = Object.values(LiveAccessStatus);

export class ListPlatformOrganizationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: LIVE_ACCESS_STATES, description: 'Only organisations in this state; `requested` is the approval queue.' })
  @IsOptional()
  @IsIn(LIVE_ACCESS_STATES, { message: `live_access must be one of ${LIVE_ACCESS_STATES.join(', ')}` })
  live_access?: LiveAccessStatus;
}
