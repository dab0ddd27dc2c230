import { createApp } from './app';

/** Starts the example service: LATCHKEY_URL and LATCHKEY_INTERNAL_TOKEN say which Latchkey to ask. */
async function main(): Promise<void> {
  const baseUrl = process.env.LATCHKEY_URL ?? 'http://127.0.0.1:3000';
  const internalToken = process.env.LATCHKEY_INTERNAL_TOKEN;
  if (!internalToken) throw new Error('Set LATCHKEY_INTERNAL_TOKEN to the INTERNAL_TOKEN of your Latchkey.');
  const app = await createApp({ baseUrl, internalToken });
  const port = Number(process.env.PORT ?? 4000);
  await app.listen(port, '0.0.0.0');
  process.stdout.write(`orders service on http://127.0.0.1:${port}/orders, verifying keys at ${baseUrl}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
