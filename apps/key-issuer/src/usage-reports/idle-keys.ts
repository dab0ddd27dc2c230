import { FilterQuery } from '@mikro-orm/core';
import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

import { ApiKey } from '@latchkey/db';

/**
 * `GET /v1/api-keys?idle_days=N` (docs/api-conventions.md#usage-logs-and-alerts): keys
 * with no check for N days: last used before then, or never used and created before then
 * (a key issued yesterday is not idle).
 */
export function idleKeyCondition(days: number, now: Date): FilterQuery<ApiKey> {
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  return { $or: [{ lastUsedAt: { $lt: cutoff } }, { lastUsedAt: null, createdAt: { $lt: cutoff } }] };
}

/** The `idle_days` query parameter of the key list: an integer from 1 to 3650. */
export function IdleDaysQuery(): PropertyDecorator {
  const message = 'idle_days must be an integer from 1 to 3650';
  return applyDecorators(
    ApiPropertyOptional({
      minimum: 1,
      maximum: 3650,
      description: 'Keys with no check for this many days (never-used keys count from creation).',
    }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value)),
    IsInt({ message }),
    Min(1, { message }),
    Max(3650, { message }),
  );
}
