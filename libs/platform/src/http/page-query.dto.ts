import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

import { PageRequest } from '@latchkey/contracts';

/** `?limit=1..100` (default 20) and `?cursor=` from the previous page's `next_cursor`. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt({ message: 'limit must be an integer from 1 to 100' })
  @Min(1, { message: 'limit must be an integer from 1 to 100' })
  @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  // A ULID's first character is 0-7 (its time is 48 bits): anything past that is no id
  // this API made, and would make ulid's decodeTime throw where a cursor is read as a time.
  @Matches(/^[a-z]{3}_[0-7][0-9A-HJKMNP-TV-Z]{25}$/, { message: 'cursor is not one this API returned' })
  cursor?: string;

  toPageRequest(): PageRequest {
    return { limit: this.limit ?? 20, cursor: this.cursor };
  }
}
