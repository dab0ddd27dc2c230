import { ApiProperty } from '@nestjs/swagger';

import { VERIFY_CODES } from '@latchkey/contracts';
import { ApiKeyEnvironment } from '@latchkey/db';

/** One key check, as the request log keeps it (docs/api-conventions.md#usage-logs-and-alerts). */
export class RequestLogResponseDto {
  @ApiProperty({ example: 'req_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, description: 'null: the key was not recognised.' })
  key_id!: string | null;

  @ApiProperty()
  org_id!: string;

  @ApiProperty({ enum: Object.values(ApiKeyEnvironment) })
  environment!: ApiKeyEnvironment;

  @ApiProperty({ enum: VERIFY_CODES })
  code!: string;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  method!: string | null;

  @ApiProperty({ type: String, nullable: true })
  path!: string | null;

  @ApiProperty({ example: 850 })
  latency_us!: number;

  @ApiProperty()
  at!: string;
}
