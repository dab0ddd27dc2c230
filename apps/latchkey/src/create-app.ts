import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';

import { AppConfig, AppConfigValues, ServiceTarget } from '@latchkey/config';
import {
  answerClientError,
  answerFrameworkError,
  DirectRpcHandlers,
  generateRequestId,
  guardRequestInput,
  MetricsService,
  newRequestId,
  parseTrustProxy,
  PlatformOptions,
  RedisStreamsServer,
  setupOpenApi,
} from '@latchkey/platform';

import { FrontDoor } from '../../auth-check/src/front-door/front-door';
import { serveConsole } from '../../org-api/src/console/serve-console';
import { LatchkeyModule } from './latchkey.module';

/** Services that answer Redis-transport messages. */
const RPC_TARGETS: readonly ServiceTarget[] = [ServiceTarget.OrgApi, ServiceTarget.KeyIssuer, ServiceTarget.AuthCheck];

const ONE_MIB = 1024 * 1024;

/**
 * Builds (but does not listen) a Latchkey process running `config.targets`.
 * Used by main.ts and by the end-to-end tests, so both run the same thing.
 */
export async function createLatchkeyApp(config: AppConfigValues, platform: PlatformOptions = {}): Promise<NestFastifyApplication> {
  const trustProxy = parseTrustProxy(config.TRUST_PROXY);
  // Only auth-check has routes answered ahead of Fastify (its key checks); a process
  // without it has no front door, and Fastify makes and serves its own server.
  const frontDoor = config.targets.includes(ServiceTarget.AuthCheck)
    ? new FrontDoor({ trustProxy, bodyLimit: ONE_MIB, requestId: newRequestId })
    : null;
  const adapter = new FastifyAdapter({
    bodyLimit: ONE_MIB,
    genReqId: generateRequestId,
    trustProxy,
    logger: false,
    ...(frontDoor && { serverFactory: frontDoor.serverFactory }),
    // What Fastify's router and Node's parser refuse is answered in the envelope too.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  // Nest's own start-up lines are held until pino takes over, so every line is JSON.
  const app = await NestFactory.create<NestFastifyApplication>(LatchkeyModule.forRoot(config, platform, frontDoor), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  if (trustProxy === true) {
    // `true` takes the left-most X-Forwarded-For entry, which any client can write:
    // IP allowlists, login throttling and request logs would believe whatever it says.
    app
      .get(Logger)
      .warn(
        'TRUST_PROXY=true trusts every hop, so any client can spoof its address through X-Forwarded-For (IP allowlists and login throttling see the forged one); set TRUST_PROXY to the comma-separated addresses or CIDRs of your proxies instead, e.g. TRUST_PROXY=10.0.0.0/8,127.0.0.1',
        'TrustProxy',
      );
  }

  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);
  // JSON only: without Fastify's text/plain parser, any other body type is a 415.
  fastify.removeContentTypeParser('text/plain');
  guardRequestInput(fastify);
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  frontDoor?.observeWith((method, route, statusCode, seconds) => metrics.observeHttp(method, route, statusCode, seconds));

  if (config.targets.some((target) => RPC_TARGETS.includes(target))) {
    app.connectMicroservice<MicroserviceOptions>(
      { strategy: new RedisStreamsServer(app.get(AppConfig), app.get(DirectRpcHandlers)) },
      { inheritAppConfig: true },
    );
  }
  if (config.targets.includes(ServiceTarget.OrgApi)) await serveConsole(fastify);
  setupOpenApi(app, config.targets);
  await app.init();
  await app.startAllMicroservices();
  return app;
}
