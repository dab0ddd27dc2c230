import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from 'pg';

/** The server every test database lives on (the test bootstrap made sure it answers). */
export function testServerUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/latchkey';
}

export function databaseUrl(name: string): string {
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The migrated template every test database is copied from. Its name carries a hash
 * of the migrations, so a changed migration gets a fresh template and parallel runs
 * on the same code share one.
 */
export function templateName(): string {
  const dir = join(__dirname, '../../libs/db/src/migrations');
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  return `latchkey_tpl_${hash.digest('hex').slice(0, 12)}`;
}

export async function withAdminClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl('postgres'), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
