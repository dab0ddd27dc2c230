import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

import { PageQueryDto } from '@latchkey/platform';

import { WEBHOOK_ENVIRONMENTS, WebhookEnvironment } from './create-webhook-endpoint.dto';

export class ListWebhookEndpointsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: WEBHOOK_ENVIRONMENTS })
  @IsOptional()
  @IsIn(WEBHOOK_ENVIRONMENTS, { message: `environment must be one of: ${WEBHOOK_ENVIRONMENTS.join(', ')}` })
  environment?: WebhookEnvironment;
}
