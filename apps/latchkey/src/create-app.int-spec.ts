import { ModuleRef } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

import { TestEnvironment } from '../../../test/support/test-environment';
import { FrontDoor } from '../../auth-check/src/front-door/front-door';
import { createLatchkeyApp } from './create-app';

/**
 * What TARGET puts in a process (docs/decisions/0008-two-run-modes.md), seen from the
 * container: the front door exists only with auth-check. Built, never listening.
 */
describe(createLatchkeyApp.name, () => {
  let env: TestEnvironment;

  beforeAll(async () => {
    env = await TestEnvironment.create();
  });

  afterAll(async () => {
    await env?.destroy();
  });

  const withApp = async (target: string, check: (app: NestFastifyApplication) => void) => {
    const app = await createLatchkeyApp(env.config({ TARGET: target, LOG_LEVEL: 'silent' }));
    try {
      check(app);
    } finally {
      await app.close();
    }
  };

  it('has no front door without auth-check, and Fastify’s own server keeps the front door’s keep-alive', async () => {
    await withApp('org-api,key-issuer,usage-worker', (app) => {
      // app.get itself would end the process (abortOnError): ask the container instead.
      expect(() => app.get(ModuleRef).get(FrontDoor, { strict: false })).toThrow(/FrontDoor/);
      expect(app.getHttpServer().keepAliveTimeout).toBe(72_000);
    });
  });

  it('runs the front door for the key checks with TARGET=all', async () => {
    await withApp('all', (app) => {
      expect(app.get(FrontDoor).handles('POST', '/v1/verify')).toBe(true);
    });
  });
});
