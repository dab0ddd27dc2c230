import { Controller, INestMicroservice, LoggerService, Module, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';

import { AppConfig, AppConfigValues } from '@latchkey/config';
import { VERIFY_KEY_REQUEST, VerifyKeyRequest } from '@latchkey/contracts';
import { RedisRpcCaller, RpcErrorBody, RpcRefusedError } from '@latchkey/redis-rpc';

import { TestEnvironment } from '../../../../test/support/test-environment';
import { AllExceptionsFilter, AppError } from '../errors';
import { createRedisClient, RedisPurpose } from '../redis/redis-connection';
import { DirectRpcHandlers } from './direct-rpc-handlers';
import { contractParser, MessagePayload } from './message-contract.pipe';
import { RedisStreamsServer } from './redis-streams.transport';

const DETAILS = [{ field: 'org_id', message: 'org_id is required' }];
const refusalToShare = () => new AppError('TOO_MANY_REQUESTS', 'Slow down.', { details: DETAILS, retryAfterSeconds: 30 });
const PIPELINE_RAN = 'the pipeline ran';
const INTERNAL_DETAIL = 'connection string postgres://latchkey:hunter2@db';

/**
 * Each pattern twice: `piped.*` through Nest's pipeline and the exception filter, `direct.*`
 * registered with DirectRpcHandlers. A `direct.*` handler here only names its stream: if
 * the transport ran it, the answer would say so.
 */
@Controller()
@UseFilters(AllExceptionsFilter)
class PairedController {
  @MessagePattern('piped.refuse')
  refuse(): never {
    throw refusalToShare();
  }

  @MessagePattern('piped.verify')
  verify(@MessagePayload(VERIFY_KEY_REQUEST) request: VerifyKeyRequest): string {
    return request.key;
  }

  @MessagePattern('direct.refuse')
  directRefuse(): string {
    return PIPELINE_RAN;
  }

  @MessagePattern('direct.bug')
  directBug(): string {
    return PIPELINE_RAN;
  }

  @MessagePattern('direct.verify')
  directVerify(): string {
    return PIPELINE_RAN;
  }

  @MessagePattern('direct.count')
  directCount(): string {
    return PIPELINE_RAN;
  }
}

@Module({ controllers: [PairedController] })
class PairedModule {}

/** What the transport logs, by level: a LoggerService, as the microservice takes one. */
class RecordingLogger implements LoggerService {
  readonly errors: unknown[][] = [];
  log(): void {}
  warn(): void {}
  error(...args: unknown[]): void {
    this.errors.push(args);
  }
}

describe(`${DirectRpcHandlers.name} on the Redis Streams transport`, () => {
  let env: TestEnvironment;
  let config: AppConfigValues;
  let caller: RedisRpcCaller;
  const servers: INestMicroservice[] = [];
  const logs = new RecordingLogger();
  /** direct.count runs: which server took each payload. */
  const counted: Array<{ server: number; n: number }> = [];

  async function startServer(index: number): Promise<void> {
    const direct = new DirectRpcHandlers();
    direct.register('direct.refuse', () => {
      throw refusalToShare();
    });
    direct.register('direct.bug', () => {
      throw new Error(INTERNAL_DETAIL);
    });
    const parse = contractParser(VERIFY_KEY_REQUEST);
    direct.register('direct.verify', (payload) => parse(payload).key);
    direct.register('direct.count', async (payload) => {
      counted.push({ server: index, n: (payload as { n: number }).n });
      return (payload as { n: number }).n;
    });
    const server = await NestFactory.createMicroservice(PairedModule, {
      strategy: new RedisStreamsServer(new AppConfig(config), direct),
      logger: logs,
    });
    servers.push(server);
    await server.listen();
  }

  beforeAll(async () => {
    env = await TestEnvironment.create();
    config = env.config();
    const appConfig = new AppConfig(config);
    caller = new RedisRpcCaller({
      connect: () => createRedisClient(appConfig, RedisPurpose.Rpc),
      prefix: appConfig.get('REDIS_PREFIX'),
      credential: { name: 'service', secret: appConfig.get('serviceSecrets')[0] },
    });
    await startServer(0);
  });

  afterAll(async () => {
    await caller.close();
    await Promise.all(servers.map((server) => server.close()));
    await env.destroy();
  });

  /** The refusal as it crossed the wire, before any client rebuilt it. */
  async function refusal(pattern: string, payload: unknown = {}): Promise<RpcErrorBody> {
    const outcome = await caller.call(pattern, payload, { timeoutMs: 5_000 }).then(
      (reply) => new Error(`expected a refusal, got ${JSON.stringify(reply)}`),
      (error: unknown) => error,
    );
    if (!(outcome instanceof RpcRefusedError)) throw outcome;
    return outcome.body;
  }

  it("answers a direct handler's AppError with the reply the exception filter makes of it", async () => {
    const piped = await refusal('piped.refuse');
    expect(piped).toEqual({
      code: 'TOO_MANY_REQUESTS',
      kind: 'rate_limited',
      message: 'Slow down.',
      details: DETAILS,
      retry_after_seconds: 30,
    });
    expect(await refusal('direct.refuse')).toEqual(piped);
  });

  it('refuses a payload the contract refuses with the VALIDATION_FAILED the pipe would give', async () => {
    const bad = { key: 123, org_id: 'org_x' };
    const piped = await refusal('piped.verify', bad);
    expect(piped).toMatchObject({ code: 'VALIDATION_FAILED', kind: 'validation' });
    expect((piped.details ?? []).map((detail) => (detail as { field: string }).field).sort()).toEqual(['key', 'org_id']);
    expect(await refusal('direct.verify', bad)).toEqual(piped);
    // And a good one is answered by the direct handler, not the pipeline.
    expect(await caller.call('direct.verify', { key: 'sk_test_direct' }, { timeoutMs: 5_000 })).toBe('sk_test_direct');
  });

  it('answers an unexpected error as INTERNAL_ERROR, naming nothing of it, and logs it once', async () => {
    logs.errors.length = 0;
    const body = await refusal('direct.bug');

    expect(body).toEqual({ code: 'INTERNAL_ERROR', kind: 'internal', message: 'Unexpected error.', details: [] });
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(logs.errors).toHaveLength(1);
    const [fields, message] = logs.errors[0] as [{ err: Error; pattern: string }, string];
    expect(message).toBe('unexpected error in a message handler');
    expect(fields.pattern).toBe('direct.bug');
    expect(fields.err.message).toBe(INTERNAL_DETAIL);
  });

  it('logs nothing for an AppError: a refusal is no fault of the service', async () => {
    logs.errors.length = 0;
    await refusal('direct.refuse');
    expect(logs.errors).toEqual([]);
  });

  it('runs each call to a direct handler on exactly one of two servers', async () => {
    await startServer(1);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, n) => caller.call<number>('direct.count', { n }, { timeoutMs: 5_000 })),
    );

    expect(answers).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(counted).toHaveLength(40);
    expect(new Set(counted.map((run) => run.n)).size).toBe(40);
  });
});
