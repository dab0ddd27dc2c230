import { Job, Queue } from 'bullmq';

import { USAGE_BATCH_JOB, UsageBatchJobData, UsageEvent, usageEventsOf } from '@latchkey/contracts';
import { sha256Hex, signRequest } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { UserSession } from '../../support/factories';

export interface IssuedKey {
  id: string;
  secret: string;
  public_key: string | null;
  [field: string]: unknown;
}

/** Issues a key the way a customer does: POST /v1/api-keys with an admin session. */
export async function issueKey(app: TestApp, session: UserSession, body: Record<string, unknown> = {}): Promise<IssuedKey> {
  const response = await app.post('/v1/api-keys', {
    token: session.token,
    body: { name: 'auth-check test key', environment: 'test', ...body },
  });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
  return response.body.data as IssuedKey;
}

export async function changeKey(
  app: TestApp,
  session: UserSession,
  keyId: string,
  action: 'revoke' | 'disable' | 'enable' | 'roll',
  body?: unknown,
) {
  const response = await app.post(`/v1/api-keys/${keyId}/${action}`, { token: session.token, body: body ?? {} });
  if (response.status !== 200 && response.status !== 201) throw new Error(`${action} failed: ${response.status} ${response.text}`);
  return response.body.data as IssuedKey;
}

export { sha256Hex };
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The body of POST /v1/verify for a signed request. */
export function signedBody(secret: string, publicKey: string, method: string, path: string, body = '', timestamp = nowSeconds()) {
  const header = signRequest(secret, { timestamp, method, path, bodySha256: sha256Hex(body) });
  const value = /v1=([0-9a-f]+)/.exec(header)![1];
  return { key: publicKey, method, path, signature: { timestamp, value, body_sha256: sha256Hex(body) } };
}

export { signRequest };

export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  withinMs: number,
  everyMs = 20,
): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    const ms = Date.now() - started;
    if (done(value) || ms > withinMs) return { value, ms };
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Every usage event auth-check has put on the queue so far, in whichever state its job is. */
export async function sentUsageEvents(queue: Queue<UsageBatchJobData>): Promise<UsageEvent[]> {
  const jobs: Job<UsageBatchJobData>[] = await queue.getJobs([
    'waiting',
    'active',
    'completed',
    'delayed',
    'failed',
    'paused',
    'prioritized',
  ]);
  return jobs.flatMap((job) => (job.name === USAGE_BATCH_JOB ? usageEventsOf(job.data) : []));
}
