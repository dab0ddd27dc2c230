import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';

import type { VerifierOptions } from '@latchkey/sdk';
import { LatchkeyModule } from '@latchkey/sdk/nestjs';

import { OrdersController } from './orders.controller';

/**
 * The example service: LatchkeyModule gives it the verifier, OrdersController's routes
 * are guarded by it. `rawBody: true` lets the guard check a signing key's signature over
 * the bytes the caller sent.
 */
export async function createApp(latchkey: VerifierOptions): Promise<INestApplication> {
  @Module({ imports: [LatchkeyModule.forRoot(latchkey)], controllers: [OrdersController] })
  class AppModule {}

  const app = await NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true, logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  return app;
}
