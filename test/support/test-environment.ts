import { randomBytes } from 'node:crypto';

import Redis from 'ioredis';

import { AppConfigValues, loadConfig } from '@latchkey/config';

import { ensureTemplateDatabase } from './template-database';
import { databaseUrl, withAdminClient } from './test-databases';

/**
 * A private world for one test file: its own database (copied from the migrated
 * template) and its own Redis key/channel prefix on the shared servers.
 */
export class TestEnvironment {
  private constructor(
    readonly databaseName: string,
    readonly redisPrefix: string,
  ) {}

  static async create(): Promise<TestEnvironment> {
    const id = randomBytes(5).toString('hex');
    const env = new TestEnvironment(`latchkey_test_${id}`, `lkt:${id}`);
    const template = await ensureTemplateDatabase();
    await withAdminClient((admin) => admin.query(`create database "${env.databaseName}" template "${template}"`));
    return env;
  }

  get databaseUrl(): string {
    return databaseUrl(this.databaseName);
  }

  /** Configuration as a deployment would load it, pointed at this environment. */
  config(overrides: Record<string, string> = {}): AppConfigValues {
    return loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      // Test files sign many users up from 127.0.0.1; auth-email.e2e-spec lowers it to test the limit.
      SIGNUP_MAX_PER_ADDRESS: '10000',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      DATABASE_URL: this.databaseUrl,
      REDIS_PREFIX: this.redisPrefix,
      ...overrides,
    });
  }

  async destroy(): Promise<void> {
    await withAdminClient((admin) => admin.query(`drop database if exists "${this.databaseName}" with (force)`));
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.redisPrefix}:*`, 'COUNT', 500);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}
