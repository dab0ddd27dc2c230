import 'reflect-metadata';

import { Controller, Get, HttpException, Inject, Module, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyRequest } from 'fastify';

import { extractKey, Verifier, VerifierOptions } from '@latchkey/sdk';
import { LATCHKEY_VERIFIER, LatchkeyModule, RequireKey } from '@latchkey/sdk/nestjs';

import { announceListening } from './child-protocol';

/** The verifier's options, from the parent (BENCH_VERIFIER, JSON): HTTP or Redis. */
const options = JSON.parse(process.env.BENCH_VERIFIER ?? '{}') as VerifierOptions;

/**
 * An operator's service as bench/guard.ts measures it, on the same Nest 11 + Fastify stack
 * as Latchkey: one route with no check, one behind the SDK's guard, and one whose handler
 * calls the same verifier itself (what a service without the guard would write).
 */
@Controller()
class OrdersController {
  constructor(@Inject(LATCHKEY_VERIFIER) private readonly verifier: Verifier) {}

  @Get('bare')
  bare(): { ok: boolean } {
    return { ok: true };
  }

  @Get('guarded')
  @RequireKey()
  guarded(): { ok: boolean } {
    return { ok: true };
  }

  @Get('direct')
  async direct(@Req() request: FastifyRequest): Promise<{ ok: boolean }> {
    const verdict = await this.verifier.verify({
      key: extractKey(request.headers),
      ip: request.ip,
      method: request.method,
      path: request.url,
    });
    if (!verdict.valid) throw new HttpException({ code: verdict.code }, 401);
    return { ok: true };
  }
}

@Module({ imports: [LatchkeyModule.forRoot(options)], controllers: [OrdersController] })
class GuardedServiceModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(GuardedServiceModule, new FastifyAdapter({ logger: false }), {
    logger: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  announceListening(app);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
