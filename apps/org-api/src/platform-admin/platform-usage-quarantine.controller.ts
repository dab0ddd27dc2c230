import { EntityManager } from '@mikro-orm/postgresql';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { PlatformAdmin } from '@latchkey/access';
import { Page } from '@latchkey/contracts';
import { findPage, QuarantinedUsageEvent } from '@latchkey/db';
import { ApiEnvelope, PageQueryDto } from '@latchkey/platform';

import { QuarantinedUsageEventResponseDto } from './dto/quarantined-usage-event-response.dto';

/**
 * Usage events the usage worker set aside because Postgres refuses them (the
 * `usage_events_quarantined_total` metric counts them). Across every tenant, so only
 * for the platform operator.
 */
@ApiTags('platform')
@PlatformAdmin()
@Controller('v1/platform/usage-quarantine')
export class PlatformUsageQuarantineController {
  constructor(private readonly em: EntityManager) {}

  @Get()
  @ApiOperation({ summary: 'Quarantined usage events, newest first: checks that were not counted, with why.' })
  @ApiEnvelope(QuarantinedUsageEventResponseDto, { list: true })
  async list(@Query() query: PageQueryDto): Promise<Page<QuarantinedUsageEventResponseDto>> {
    const page = await findPage(this.em.fork(), QuarantinedUsageEvent, {}, query.toPageRequest());
    return page.map(QuarantinedUsageEventResponseDto.from);
  }
}
