import { Controller, Get, Inject, Optional, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorFunction, HealthIndicatorResult } from '@nestjs/terminus';
import { FastifyReply } from 'fastify';

import { Public } from '../http/public.decorator';
import { RawResponse } from '../http/raw-response.decorator';
import { PostgresHealthIndicator } from './postgres.health';
import { RedisHealthIndicator } from './redis.health';

/** A dependency readiness checks. */
export type HealthDependency = 'postgres' | 'redis';

export interface HealthOptions {
  /**
   * Dependencies the process serves without: still checked and listed in readiness,
   * marked `required: false`, but never making it 503. Every other one is required.
   */
  optional?: HealthDependency[];
}

/** Injection token of the HealthOptions (PlatformModule.forRoot provides them). */
export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

/**
 * Liveness says the process runs; readiness says it can serve, else 503. Every
 * dependency is required unless the composition root lists it as optional
 * (HealthOptions): an optional one is reported, as not required, and a failure of it
 * leaves the answer 200.
 */
@ApiExcludeController()
@Public()
@RawResponse()
@Controller('health')
export class HealthController {
  private readonly required: HealthIndicatorFunction[];
  private readonly optional: HealthIndicatorFunction[];

  constructor(
    private readonly health: HealthCheckService,
    postgres: PostgresHealthIndicator,
    redis: RedisHealthIndicator,
    @Optional() @Inject(HEALTH_OPTIONS) options: HealthOptions | null,
  ) {
    const optional = new Set(options?.optional ?? []);
    const checks: Record<HealthDependency, HealthIndicatorFunction> = {
      postgres: () => postgres.isHealthy(),
      redis: () => redis.isHealthy(),
    };
    const entries = Object.entries(checks) as [HealthDependency, HealthIndicatorFunction][];
    this.required = entries.filter(([name]) => !optional.has(name)).map(([, check]) => check);
    this.optional = entries.filter(([name]) => optional.has(name)).map(([, check]) => check);
  }

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    const [result, ...optional] = await Promise.all([
      this.answer(reply, () => this.health.check(this.required)),
      ...this.optional.map((check) => check() as Promise<HealthIndicatorResult>),
    ]);
    return optional.reduce(withNotRequired, result);
  }

  private async answer(reply: FastifyReply, check: () => Promise<HealthCheckResult>): Promise<HealthCheckResult> {
    try {
      return await check();
    } catch (error) {
      // Terminus reports a failed check as a 503 exception; answer it as is (which
      // dependency is down, and why) rather than as a generic error envelope.
      if (error instanceof ServiceUnavailableException) {
        void reply.status(503);
        return error.getResponse() as HealthCheckResult;
      }
      throw error;
    }
  }
}

/** Adds a dependency the process serves without: listed with the others, marked `required: false`, never failing the check. */
function withNotRequired(result: HealthCheckResult, indicator: HealthIndicatorResult): HealthCheckResult {
  const marked = Object.fromEntries(Object.entries(indicator).map(([key, value]) => [key, { ...value, required: false }]));
  const up = Object.values(indicator).every((value) => value.status === 'up');
  return {
    ...result,
    info: up ? { ...result.info, ...marked } : result.info,
    error: up ? result.error : { ...result.error, ...marked },
    details: { ...result.details, ...marked },
  };
}
