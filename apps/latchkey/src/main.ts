import 'reflect-metadata';

import { ConfigError, loadConfig } from '@latchkey/config';

import { createLatchkeyApp } from './create-app';

/**
 * The one entry point. TARGET=all (the default) runs every service in this process;
 * TARGET=org-api,auth-check (any list) runs just those. Same REST paths either way.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createLatchkeyApp(config);
  await app.listen({ port: config.PORT, host: config.HOST });
  console.log(`latchkey (${config.targets.join(', ')}) listening on http://${config.HOST}:${config.PORT}`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  console.error(error);
  process.exit(1);
});
