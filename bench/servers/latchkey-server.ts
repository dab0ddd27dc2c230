import 'reflect-metadata';

import { loadConfig } from '@latchkey/config';

import { createLatchkeyApp } from '../../apps/latchkey/src/create-app';
import { announceListening } from './child-protocol';

/** A Latchkey process configured by the parent (BENCH_CONFIG, JSON), on a free port of 127.0.0.1. */
async function main(): Promise<void> {
  const overrides = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as Record<string, string>;
  const app = await createLatchkeyApp(loadConfig(overrides));
  await app.listen({ port: 0, host: '127.0.0.1' });
  announceListening(app);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
