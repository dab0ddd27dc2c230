/**
 * A Latchkey process started as a CHILD of a test (for faults a process cannot do
 * to itself, such as SIGKILL). Run with a TypeScript loader:
 *
 *   node -r @swc-node/register test/support/usage-worker-child.ts
 *
 * with LATCHKEY_CHILD_ENV holding the environment variables to load (JSON). It
 * prints one line `ready` on stdout once the app is initialised; with
 * LATCHKEY_CHILD_LISTEN=1 it also listens on a free port and prints `ready <port>`.
 */
import 'reflect-metadata';

import { loadConfig } from '@latchkey/config';

import { createLatchkeyApp } from '../../apps/latchkey/src/create-app';

async function main(): Promise<void> {
  const env = JSON.parse(process.env.LATCHKEY_CHILD_ENV ?? '{}') as Record<string, string>;
  const app = await createLatchkeyApp(loadConfig(env));
  if (process.env.LATCHKEY_CHILD_LISTEN === '1') {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : 0}\n`);
  } else {
    process.stdout.write('ready\n');
  }
  const stop = () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
