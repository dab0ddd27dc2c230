import 'reflect-metadata';

import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';

import { announceListening } from './child-protocol';

/** The baseline: the same Nest 11 + Fastify stack with one trivial route and nothing else. */
@Controller()
class BareController {
  @Get('bare')
  bare(): { ok: boolean } {
    return { ok: true };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, new FastifyAdapter({ logger: false }), { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  announceListening(app);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
