import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Global, INestMicroservice, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test, TestingModule } from '@nestjs/testing';

import { AuditModule } from '@latchkey/audit';
import { AppConfig, ConfigModule } from '@latchkey/config';
import { OrganizationReply, OrgsPattern } from '@latchkey/contracts';
import { DbModule } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';
import { OutboxModule } from '@latchkey/outbox';
import { AllExceptionsFilter, AppError, DirectRpcHandlers, RedisService, RedisStreamsServer, RpcClient } from '@latchkey/platform';

import { seedOrg } from '../../../../test/support/org-seeds';
import { TestEnvironment } from '../../../../test/support/test-environment';
import { OrgsRpcModule } from './orgs-rpc.module';

const REPLY_WITHIN_MS = 5_000;

/** What PlatformModule gives org-api's modules: Redis, and the exception filter that answers refusals. */
@Global()
@Module({
  providers: [RedisService, { provide: APP_FILTER, useClass: AllExceptionsFilter }],
  exports: [RedisService],
})
class SharedPlatformModule {}

/**
 * orgs.* as Latchkey's own services call them: OrgsRpcModule on the Redis Streams
 * transport, called through the platform RpcClient, with no HTTP. Operators do not call
 * these patterns, so this is not e2e (orgs.redis.e2e-spec.ts covers the wire).
 */
describe('OrgsRpcController through the platform RpcClient', () => {
  let env: TestEnvironment;
  let moduleRef: TestingModule;
  let server: INestMicroservice;
  let rpc: RpcClient;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    const config = env.config();
    moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), DbModule.forRoot(), AuditModule, OutboxModule, SharedPlatformModule, OrgsRpcModule],
      providers: [RpcClient],
    }).compile();
    server = moduleRef.createNestMicroservice({
      strategy: new RedisStreamsServer(moduleRef.get(AppConfig), new DirectRpcHandlers()),
      logger: ['error'],
    });
    await server.listen();
    rpc = moduleRef.get(RpcClient);
  });

  afterAll(async () => {
    await server?.close();
    await moduleRef?.close();
    await env?.destroy();
  });

  it('answers through the platform RpcClient as AppErrors with the same codes', async () => {
    const owner = await seedOrg(moduleRef.get(MikroORM).em.fork() as EntityManager);
    await expect(rpc.send<OrganizationReply>(OrgsPattern.GetOrganization, { org_id: owner.orgId }, REPLY_WITHIN_MS)).resolves.toMatchObject(
      { id: owner.orgId },
    );
    const notFound = await rpc
      .send(OrgsPattern.GetOrganization, { org_id: newId(IdPrefix.Organization) }, REPLY_WITHIN_MS)
      .catch((error: unknown) => error);
    expect(notFound).toBeInstanceOf(AppError);
    expect(notFound).toMatchObject({ code: 'NOT_FOUND', kind: 'not_found' });
    const invalid = await rpc.send(OrgsPattern.GetMemberRole, { org_id: 'nope' }, REPLY_WITHIN_MS).catch((error: unknown) => error);
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', kind: 'validation' });
  });
});
