import { Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler, preHandlerHookHandler, RouteOptions } from 'fastify';

import { sendError } from '@latchkey/platform';

import { KeyChecksHttpHandler } from './key-checks.http.handler';

type CheckHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Answers the two check routes before Nest's request pipeline runs. The routes stay
 * declared on KeyChecksHttpController (so they are documented and behave the same
 * when this is not attached), but every global guard, pipe and interceptor costs an
 * AsyncResource.bind and an rxjs chain per request, which cut the hot path to a few
 * percent of a bare route (`npm run bench:verify`). These routes need none of them:
 * they are public, validate with a compiled schema and build their own envelope.
 */
@Injectable()
export class KeyChecksFastPath {
  private readonly logger = new Logger(KeyChecksFastPath.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly handler: KeyChecksHttpHandler,
  ) {}

  /** Must run before Nest registers its routes (KeyChecksModule.configure does). */
  attach(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.addHook('onRoute', (route: RouteOptions) => {
      const handler = this.handlerFor(route);
      if (!handler) return;
      const existing = route.preHandler ? ([] as (preHandlerHookHandler | preHandlerAsyncHookHandler)[]).concat(route.preHandler) : [];
      route.preHandler = [...existing, this.answer(handler)] as RouteOptions['preHandler'];
    });
  }

  private handlerFor(route: RouteOptions): CheckHandler | null {
    const methods = ([] as string[]).concat(route.method);
    if (route.url === '/v1/verify' && methods.includes('POST')) return (request, reply) => this.handler.verify(request, reply);
    if (route.url === '/v1/check' && methods.includes('GET')) return (request, reply) => this.handler.check(request, reply);
    return null;
  }

  private answer(handler: CheckHandler): preHandlerAsyncHookHandler {
    return async (request, reply) => {
      try {
        const body = await handler(request, reply);
        await reply.send(body);
      } catch (error) {
        sendError(error, request, reply, this.logger);
      }
      return reply;
    };
  }
}
