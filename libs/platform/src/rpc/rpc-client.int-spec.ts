import { Controller, INestMicroservice, Logger, Module, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, RpcException } from '@nestjs/microservices';

import { AppConfig } from '@latchkey/config';

import { TestEnvironment } from '../../../../test/support/test-environment';
import { AllExceptionsFilter, AppError } from '../errors';
import { RedisStreamsServer } from './redis-streams.transport';
import { RpcClient } from './rpc-client.service';

const DETAILS = [{ field: 'org_id', message: 'org_id is required' }];

/** Handlers that refuse the way services do, and one that answers like a newer service would. */
@Controller()
class RefusingController {
  @MessagePattern('test.invalid')
  @UseFilters(AllExceptionsFilter)
  invalid(): never {
    throw AppError.validation('org_id is required', DETAILS);
  }

  @MessagePattern('test.throttled')
  @UseFilters(AllExceptionsFilter)
  throttled(): never {
    throw new AppError('TOO_MANY_REQUESTS', 'Too many invitations from this organisation; try again later.', { retryAfterSeconds: 900 });
  }

  @MessagePattern('test.bug')
  @UseFilters(AllExceptionsFilter)
  bug(): never {
    throw new TypeError("Cannot read properties of undefined (reading 'id')");
  }

  /** Nest's own RPC filter passes an RpcException's object on as it is: a code from a later release. */
  @MessagePattern('test.unknown-code')
  unknownCode(): never {
    throw new RpcException({ code: 'CODE_FROM_A_LATER_RELEASE', kind: 'conflict', message: 'New.', details: [] });
  }
}

@Module({ controllers: [RefusingController] })
class RefusingModule {}

describe(`${RpcClient.name} over Redis Streams`, () => {
  let env: TestEnvironment;
  let server: INestMicroservice;
  let sut: RpcClient;

  beforeAll(async () => {
    // Unknown errors are logged in full on both ends: expected here, noise in the output.
    Logger.overrideLogger(false);
    env = await TestEnvironment.create();
    const config = env.config();
    server = await NestFactory.createMicroservice(RefusingModule, {
      strategy: new RedisStreamsServer(new AppConfig(config)),
      logger: false,
    });
    await server.listen();
    sut = new RpcClient(new AppConfig(config));
  });

  afterAll(async () => {
    await sut.onApplicationShutdown();
    await server.close();
    await env.destroy();
  });

  async function refusal(pattern: string): Promise<AppError> {
    const outcome = await sut.send(pattern, {}, 5_000).then(
      (reply) => new Error(`expected a refusal, got ${JSON.stringify(reply)}`),
      (error: unknown) => error,
    );
    if (!(outcome instanceof AppError)) throw outcome;
    return outcome;
  }

  function asSeen(error: AppError) {
    return {
      code: error.code,
      kind: error.kind,
      message: error.message,
      details: error.details,
      retryAfterSeconds: error.retryAfterSeconds,
    };
  }

  it("rebuilds the handler's AppError with its code, kind and details", async () => {
    expect(asSeen(await refusal('test.invalid'))).toEqual({
      code: 'VALIDATION_FAILED',
      kind: 'validation',
      message: 'org_id is required',
      details: DETAILS,
      retryAfterSeconds: undefined,
    });
  });

  it('keeps how long to wait, so the caller answers the same Retry-After', async () => {
    expect(asSeen(await refusal('test.throttled'))).toEqual({
      code: 'TOO_MANY_REQUESTS',
      kind: 'rate_limited',
      message: 'Too many invitations from this organisation; try again later.',
      details: [],
      retryAfterSeconds: 900,
    });
  });

  it("answers a handler's bug as INTERNAL_ERROR, naming nothing of it", async () => {
    const error = await refusal('test.bug');
    expect({ code: error.code, kind: error.kind, status: error.status }).toEqual({ code: 'INTERNAL_ERROR', kind: 'internal', status: 500 });
    expect(error.message).not.toContain('Cannot read');
  });

  it('turns a code the catalogue lacks into INTERNAL_ERROR rather than trusting the kind that came with it', async () => {
    expect(asSeen(await refusal('test.unknown-code'))).toMatchObject({ code: 'INTERNAL_ERROR', kind: 'internal' });
  });

  it('answers UPSTREAM_TIMEOUT when no handler answers in time', async () => {
    // No process serves the `nobody` service, so nothing reads its stream.
    const outcome = await sut.send('nobody.listens', {}, 300).catch((error: unknown) => error);
    expect(outcome).toMatchObject({ code: 'UPSTREAM_TIMEOUT', kind: 'unavailable', status: 503 });
  });
});
