import { MikroORM, RequestContext } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Logger, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';

import { AuditModule } from '@latchkey/audit';
import { AppConfig, AppConfigValues, ConfigModule } from '@latchkey/config';
import { DbModule } from '@latchkey/db';
import { Mail, MailerModule, MailerService } from '@latchkey/mailer';
import { OutboxModule } from '@latchkey/outbox';
import { closeBullmq, createProducerQueue, createRedisClient, RedisClient, RedisPurpose } from '@latchkey/platform';

import { TestEnvironment } from './test-environment';

export interface ServiceHarnessOptions {
  /** The services under test (and whatever they need that the shared modules do not give). */
  providers?: Provider[];
  /** Modules of the app under test, to check how they wire their providers together. */
  imports?: ModuleMetadata['imports'];
  /** Environment overrides, as for TestApp. */
  config?: Record<string, string>;
  /**
   * A test environment (database and Redis prefix) to share with other harnesses, as
   * copies of a service in one deployment share theirs; its creator destroys it. By
   * default the harness creates one of its own and destroys it on close.
   */
  env?: TestEnvironment;
}

/**
 * The integration tier's way to a service: a Nest module with only the providers under
 * test, on the same shared modules a service gets in production (configuration, MikroORM,
 * audit, outbox, mailer), over a database of the file's own copied from the migrated
 * template, and Redis keys and BullMQ queues under the file's own prefix (REDIS_PREFIX
 * from TestEnvironment), so services that build their clients and queues from the
 * platform's factories see only this file's data. No HTTP server, no other service: a
 * test calls the service and reads what it wrote. Mail is recorded in `mails` instead
 * of being sent.
 */
export class ServiceHarness {
  private readonly opened: Array<Queue | RedisClient> = [];

  private constructor(
    readonly env: TestEnvironment,
    readonly config: AppConfigValues,
    private readonly moduleRef: TestingModule,
    /** Every mail the services asked to send, oldest first. */
    readonly mails: Mail[],
    private readonly ownsEnv: boolean,
  ) {}

  static async start(options: ServiceHarnessOptions = {}): Promise<ServiceHarness> {
    // Refusals a service logs as warnings are what these tests provoke; errors still show.
    Logger.overrideLogger(['error']);
    const env = options.env ?? (await TestEnvironment.create());
    const ownsEnv = options.env === undefined;
    const config = env.config(options.config);
    const mails: Mail[] = [];
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [ConfigModule.forRoot(config), DbModule.forRoot(), AuditModule, OutboxModule, MailerModule, ...(options.imports ?? [])],
        providers: options.providers ?? [],
      })
        .overrideProvider(MailerService)
        .useValue({ delivers: true, send: async (mail: Mail) => void mails.push(mail) })
        .compile();
      await moduleRef.init();
      return new ServiceHarness(env, config, moduleRef, mails, ownsEnv);
    } catch (error) {
      if (ownsEnv) await env.destroy();
      throw error;
    }
  }

  get<T>(type: Type<T>): T {
    return this.moduleRef.get(type);
  }

  /** A fresh EntityManager, to arrange rows and read what a service wrote. */
  em(): EntityManager {
    return this.moduleRef.get(MikroORM).em.fork() as EntityManager;
  }

  sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
    return this.em().getConnection().execute<T[]>(query, params);
  }

  /**
   * Runs `work` with its own request-scoped EntityManager, as an HTTP request would
   * (DbModule's middleware): services that read through the injected EntityManager
   * need one, because the global context is off.
   */
  inRequest<T>(work: () => Promise<T>): Promise<T> {
    return RequestContext.create(this.moduleRef.get(MikroORM).em, work);
  }

  /**
   * A producer on queue `name` as the services see it (the file's prefix, the platform's
   * queue factory), to add jobs and read their states; closed with the harness.
   */
  queue<DataType = unknown>(name: string): Queue<DataType> {
    const queue = createProducerQueue<DataType>(name, this.get(AppConfig), new Logger(`harness:${name}`));
    this.opened.push(queue);
    return queue;
  }

  /** A Redis client of the file's server (keys are the caller's to prefix); closed with the harness. */
  redis(): RedisClient {
    const client = createRedisClient(this.get(AppConfig), RedisPurpose.Command);
    client.on('error', () => undefined);
    this.opened.push(client);
    return client;
  }

  async close(): Promise<void> {
    try {
      for (const handle of this.opened) {
        if (handle instanceof Queue) await closeBullmq(handle);
        else handle.disconnect();
      }
      await this.moduleRef.close();
    } finally {
      if (this.ownsEnv) await this.env.destroy();
    }
  }
}
