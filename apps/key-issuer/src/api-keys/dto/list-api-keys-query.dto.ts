import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';

import { ApiKeyEnvironment, ApiKeyStatus } from '@latchkey/db';
import { PageQueryDto, Trimmed } from '@latchkey/platform';

import { IdleDaysQuery } from '../../usage-reports/idle-keys';

const ENVIRONMENTS = Object.values(ApiKeyEnvironment);
const STATUSES = Object.values(ApiKeyStatus);

export class ListApiKeysQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Matches name and description (contains, any case), prefix and id (starts with).' })
  @IsOptional()
  @Trimmed()
  @IsString()
  @Length(1, 200, { message: 'search must be 1 to 200 characters' })
  search?: string;

  @ApiPropertyOptional({ enum: ENVIRONMENTS })
  @IsOptional()
  @IsIn(ENVIRONMENTS, { message: `environment must be one of: ${ENVIRONMENTS.join(', ')}` })
  environment?: ApiKeyEnvironment;

  @ApiPropertyOptional({ enum: STATUSES, description: 'Derived: revoked beats disabled beats expired.' })
  @IsOptional()
  @IsIn(STATUSES, { message: `status must be one of: ${STATUSES.join(', ')}` })
  status?: ApiKeyStatus;

  @ApiPropertyOptional({ description: 'A usr_ id.' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  created_by?: string;

  @ApiPropertyOptional({ description: 'Your id for the customer or service holding the keys.' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  owner_id?: string;

  // Usage (docs/api-conventions.md#usage-logs-and-alerts): validated by IdleDaysQuery, filtered in
  // ApiKeysService.list with idleKeyCondition.
  @IdleDaysQuery()
  idle_days?: number;
}
