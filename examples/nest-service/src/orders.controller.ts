import { Body, Controller, Get, Post } from '@nestjs/common';

import type { PassingVerdict } from '@latchkey/sdk';
import { CurrentKey, RequireKey, SkipKey } from '@latchkey/sdk/nestjs';

/** A service's own API: every route needs a Latchkey key with orders:read, except the health check. */
@Controller('orders')
@RequireKey({ permissions: ['orders:read'] })
export class OrdersController {
  @Get()
  list(@CurrentKey() key: PassingVerdict) {
    // The verdict says whose key it is: scope the answer to that organisation.
    return { org_id: key.org_id, key_id: key.key_id, orders: [] };
  }

  @Post()
  @RequireKey({ permissions: ['orders:write'], cost: 5 })
  create(@CurrentKey() key: PassingVerdict, @Body() body: unknown) {
    return { org_id: key.org_id, created: body };
  }

  @Get('health')
  @SkipKey()
  health() {
    return { ok: true };
  }
}
