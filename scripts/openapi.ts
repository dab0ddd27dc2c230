import 'reflect-metadata';

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { format, resolveConfig } from 'prettier';

import { loadConfig } from '@latchkey/config';
import { buildOpenApiDocument } from '@latchkey/platform';

import { FrontDoor } from '../apps/auth-check/src/front-door/front-door';
import { LatchkeyModule } from '../apps/latchkey/src/latchkey.module';

export const OPENAPI_FILE = join(__dirname, '..', 'docs', 'openapi.json');

/**
 * The whole platform's document (every service, as in all-in-one mode): a split
 * process serves only its own routes, so the SDK's types come from this file.
 * Nest's preview mode reads the controllers without building a provider, so no
 * Postgres or Redis is needed.
 */
export async function renderOpenApiDocument(): Promise<string> {
  const config = loadConfig({ ...process.env, TARGET: 'all' });
  const frontDoor = new FrontDoor({ trustProxy: false, bodyLimit: 1024 * 1024, requestId: () => 'req_openapi' });
  const app = await NestFactory.create(LatchkeyModule.forRoot(config, {}, frontDoor), new FastifyAdapter({ logger: false }), {
    preview: true,
    abortOnError: false,
    logger: false,
  });
  try {
    const document = buildOpenApiDocument(app, config.targets);
    // The repository's own settings, so the committed file passes `prettier --check`.
    const options = await resolveConfig(OPENAPI_FILE);
    return await format(JSON.stringify(document), { ...options, parser: 'json', filepath: OPENAPI_FILE });
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  renderOpenApiDocument()
    .then((text) => {
      writeFileSync(OPENAPI_FILE, text);
      console.log(`wrote ${OPENAPI_FILE}`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
