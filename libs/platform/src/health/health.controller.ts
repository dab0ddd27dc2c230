import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorResult } from '@nestjs/terminus';
import { FastifyReply } from 'fastify';

import { AppConfig, ServiceTarget } from '@latchkey/config';

import { Public } from '../http/public.decorator';
import { RawResponse } from '../http/raw-response.decorator';
import { PostgresHealthIndicator } from './postgres.health';
import { RedisHealthIndicator } from './redis.health';

/**
 * Liveness says the process runs; readiness says it can serve, else 503. Redis is always
 * required. Postgres is required unless the process runs auth-check alone: that one answers
 * cached keys without it (a miss asks key-issuer first), so a database blip must not take every
 * auth-check out of the load balancer. Its readiness then still reports Postgres, as not required.
 */
@ApiExcludeController()
@Public()
@RawResponse()
@Controller('health')
export class HealthController {
  private readonly postgresRequired: boolean;

  constructor(
    config: AppConfig,
    private readonly health: HealthCheckService,
    private readonly postgres: PostgresHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {
    this.postgresRequired = config.get('targets').some((target) => target !== ServiceTarget.AuthCheck);
  }

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    if (this.postgresRequired) {
      return this.answer(reply, () => this.health.check([() => this.postgres.isHealthy(), () => this.redis.isHealthy()]));
    }
    const [postgres, result] = await Promise.all([
      this.postgres.isHealthy(),
      this.answer(reply, () => this.health.check([() => this.redis.isHealthy()])),
    ]);
    return withNotRequired(result, postgres);
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
