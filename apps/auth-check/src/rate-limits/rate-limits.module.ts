import { Module } from '@nestjs/common';

import { RateLimiterService } from './rate-limiter.service';

/** Exact per-key rate limits in Redis (needs the global AppConfig and RedisService). */
@Module({ providers: [RateLimiterService], exports: [RateLimiterService] })
export class RateLimitsModule {}
