import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';

import { ALERT_TYPES, AlertType } from '@latchkey/db';
import { IdPrefix } from '@latchkey/ids';
import { IsPrefixedId, PageQueryDto } from '@latchkey/platform';

export class ListAlertsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ALERT_TYPES })
  @IsOptional()
  @IsIn(ALERT_TYPES, { message: `type must be one of ${ALERT_TYPES.join(', ')}` })
  type?: AlertType;

  @ApiPropertyOptional({ example: 'key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  @IsOptional()
  @IsPrefixedId(IdPrefix.ApiKey)
  key_id?: string;

  @ApiPropertyOptional({ type: Boolean, description: '`true`: acknowledged only; `false`: open only.' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'acknowledged must be true or false' })
  acknowledged?: boolean;
}
