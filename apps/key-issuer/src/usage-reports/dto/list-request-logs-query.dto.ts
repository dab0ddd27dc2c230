import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';

import { VERIFY_CODES, VerifyCode } from '@latchkey/contracts';
import { ApiKeyEnvironment } from '@latchkey/db';
import { PageQueryDto } from '@latchkey/platform';

const ENVIRONMENTS = Object.values(ApiKeyEnvironment);

export class ListRequestLogsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'A key_ id.' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  key_id?: string;

  @ApiPropertyOptional({ enum: VERIFY_CODES })
  @IsOptional()
  @IsIn(VERIFY_CODES, { message: `code must be one of: ${VERIFY_CODES.join(', ')}` })
  code?: VerifyCode;

  @ApiPropertyOptional({ enum: ENVIRONMENTS })
  @IsOptional()
  @IsIn(ENVIRONMENTS, { message: `environment must be one of: ${ENVIRONMENTS.join(', ')}` })
  environment?: ApiKeyEnvironment;

  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'Inclusive.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 time' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-02T00:00:00Z', description: 'Exclusive.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 time' })
  to?: string;
}
