import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Matches } from 'class-validator';

import { PageQueryDto } from '@latchkey/platform';

const PREFIXED_ID = /^[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}$/;
/** A date, or a date-time that says its zone: a bare local time would depend on the server's zone. */
const DATE_OR_ZONED_TIME = /^\d{4}-\d{2}-\d{2}(T[^Z+-]+(Z|[+-]\d{2}(:?\d{2})?))?$/;

export class ListAuditLogsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'org.updated', description: 'Exact action name.' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,50}(\.[a-z_]{1,50}){0,3}$/, { message: 'action must be an action name such as org.updated' })
  action?: string;

  @ApiPropertyOptional({ example: 'usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', description: 'Who made the change (a user or key id).' })
  @IsOptional()
  @IsString()
  @Matches(PREFIXED_ID, { message: 'actor_id must be an id such as usr_…' })
  actor_id?: string;

  @ApiPropertyOptional({ example: 'org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', description: 'What was changed.' })
  @IsOptional()
  @IsString()
  @Matches(PREFIXED_ID, { message: 'target_id must be an id such as key_…' })
  target_id?: string;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z', description: 'ISO-8601; rows at or after this instant.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'from must be an ISO-8601 date or date-time with a zone' })
  @Matches(DATE_OR_ZONED_TIME, { message: 'from must be an ISO-8601 date or date-time with a zone' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-02-01T00:00:00Z', description: 'ISO-8601; rows before this instant.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'to must be an ISO-8601 date or date-time with a zone' })
  @Matches(DATE_OR_ZONED_TIME, { message: 'to must be an ISO-8601 date or date-time with a zone' })
  to?: string;
}
