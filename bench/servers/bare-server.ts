import 'reflect-metadata';

import { Controller, Get, Module, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply } from 'fastify';

import { announceListening } from './child-protocol';

/**
 * What GET /v1/check answered the bench for a cached key (BENCH_CHECK_ANSWER, JSON):
 * replayed by /bare-answer, so the same bytes can be measured without the check.
 */
interface RecordedAnswer {
  headers: Record<string, string>;
  body: unknown;
}
const recorded = JSON.parse(process.env.BENCH_CHECK_ANSWER ?? '{"headers":{},"body":{}}') as RecordedAnswer;

/** The baselines: the same Nest 11 + Fastify stack with trivial routes and nothing else. */
@Controller()
class BareController {
  @Get('bare')
  bare(): { ok: boolean } {
    return { ok: true };
  }

  @Get('bare-answer')
  answer(@Res({ passthrough: true }) reply: FastifyReply): unknown {
    void reply.headers(recorded.headers);
    return recorded.body;
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
