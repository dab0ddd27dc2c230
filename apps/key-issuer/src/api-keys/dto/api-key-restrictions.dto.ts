import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';

import { MULTI_WILDCARD_PATTERN_BUDGET } from '@latchkey/contracts';
import { IsIpRangeList } from '@latchkey/platform';

import { ENDPOINT_METHODS, EndpointMethod, IsEndpointPath, IsWithinWildcardBudget, REFERRER_PATTERN, upper } from './api-key-validators';

export class EndpointPatternDto {
  @ApiProperty({ enum: ENDPOINT_METHODS, example: 'GET', description: '`*` matches any method.' })
  @Transform(upper)
  @IsIn(ENDPOINT_METHODS, { message: `method must be one of: ${ENDPOINT_METHODS.join(', ')}` })
  method!: EndpointMethod;

  @ApiProperty({
    example: '/v1/payments/*',
    description:
      'An absolute path; `*` matches one or more characters across segments, `{name}` one segment. ' +
      'No `.` or `..` segment (nor `%2e`), no `%2F`, `%5C` or `%00`: a request path like that is refused before matching.',
  })
  @IsString()
  @MaxLength(500)
  @IsEndpointPath()
  path!: string;
}

/** Where a key may be used from and what it may call. An empty list allows anything. */
export class ApiKeyRestrictionsDto {
  @ApiPropertyOptional({
    type: [String],
    maxItems: 100,
    example: ['203.0.113.0/24', '2001:db8::/32'],
    description: 'IPv4/IPv6 addresses or CIDRs; stored as CIDRs (a single address becomes /32 or /128).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsIpRangeList()
  ip_allowlist?: string[];

  @ApiPropertyOptional({ type: [String], maxItems: 100, example: ['https://*.example.com'], description: 'Origin patterns.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(300, { each: true })
  @Matches(REFERRER_PATTERN, { each: true, message: 'referrers must hold origin patterns such as https://*.example.com' })
  referrers?: string[];

  @ApiPropertyOptional({
    type: [EndpointPatternDto],
    maxItems: 100,
    description: `Patterns with two or more wildcards may hold ${MULTI_WILDCARD_PATTERN_BUDGET} characters in all.`,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsWithinWildcardBudget()
  @IsObject({ each: true, message: 'endpoints must hold {method, path} objects' })
  @ValidateNested({ each: true })
  @Type(() => EndpointPatternDto)
  endpoints?: EndpointPatternDto[];
}
