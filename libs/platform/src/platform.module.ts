import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { DestinationStream } from 'pino';

import { AllExceptionsFilter, createValidationPipe } from './errors';
import { HEALTH_OPTIONS, HealthController, HealthOptions, PostgresHealthIndicator, RedisHealthIndicator } from './health';
import { EnvelopeInterceptor } from './http';
import { IdempotencyInterceptor, IdempotencyJanitor } from './idempotency';
import { LoggerModule } from './logging';
import { MetricsController, MetricsService } from './metrics';
import { RedisService } from './redis';
import { DirectRpcHandlers, RpcClient } from './rpc';

/**
 * What every service gets once, whatever TARGET runs: logging, Redis, the error
 * envelope, validation, idempotency, health and metrics. Interceptors run in the
 * order listed: idempotency sees the enveloped body, so a replay is byte-identical.
 */
export interface PlatformOptions {
  /** Where logs go (stdout by default). */
  logDestination?: DestinationStream;
  /** What readiness requires (every dependency unless listed as optional). */
  health?: HealthOptions;
}

@Global()
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [
    DirectRpcHandlers,
    IdempotencyJanitor,
    MetricsService,
    PostgresHealthIndicator,
    RedisHealthIndicator,
    RedisService,
    RpcClient,
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
    { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
  ],
  exports: [DirectRpcHandlers, MetricsService, RedisService, RpcClient],
})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    return {
      module: PlatformModule,
      imports: [LoggerModule.forRoot(options.logDestination)],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options.health ?? {} }],
    };
  }
}
