import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import Redis from 'ioredis';

import { KEY_CHANGED_CHANNEL, KeyChangedNotice } from '@latchkey/contracts';
import { hmacSha256Hex } from '@latchkey/crypto';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { LogCapture } from '../../support/log-capture';

const run = promisify(execFile);

/**
 * The secret is shown once: in the answer to a create or a roll (and in an
 * idempotent replay of that very answer), never again, nowhere else.
 */
describe('API key secrets (key-issuer)', () => {
  const logs = new LogCapture();
  let sut: TestApp;
  let owner: UserSession;
  let subscriber: Redis;
  const notices: KeyChangedNotice[] = [];

  beforeAll(async () => {
    sut = await TestApp.start({ config: { LOG_LEVEL: 'info' }, logs });
    owner = await signUp(sut);
    subscriber = new Redis(sut.config.REDIS_URL);
    await subscriber.subscribe(`${sut.config.REDIS_PREFIX}:${KEY_CHANGED_CHANNEL}`);
    subscriber.on('message', (_channel: string, message: string) => notices.push(JSON.parse(message) as KeyChangedNotice));
  });

  afterAll(async () => {
    subscriber.disconnect();
    await sut.close();
  });

  async function waitForNotices(count: number): Promise<void> {
    for (let i = 0; i < 100 && notices.length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  it('replays a create retried with the same Idempotency-Key, secret included, and makes one key', async () => {
    const body = { name: 'retried', environment: 'test', signing: true };
    const headers = { 'idempotency-key': 'create-once-1' };
    const first = await sut.post('/v1/api-keys', { token: owner.token, body, headers });
    const second = await sut.post('/v1/api-keys', { token: owner.token, body, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(second.body.data.secret).toBe(first.body.data.secret);
    const list = await sut.get('/v1/api-keys?search=retried', { token: owner.token });
    expect(list.body.data).toHaveLength(1);
    const other = await sut.post('/v1/api-keys', { token: owner.token, body: { ...body, name: 'different' }, headers });
    expect(other.status).toBe(409);
  });

  it('announces every change with the secret hashes to drop', async () => {
    notices.length = 0;
    const created = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'announced', environment: 'test' } });
    const key = created.body.data;
    const firstHash = hmacSha256Hex(sut.config.KEY_HASH_SECRET, key.secret);
    await waitForNotices(1);
    const rolled = await sut.post(`/v1/api-keys/${key.id}/roll`, { token: owner.token, body: { expire_old_in_seconds: 60 } });
    const secondHash = hmacSha256Hex(sut.config.KEY_HASH_SECRET, rolled.body.data.secret);
    await waitForNotices(2);
    await sut.patch(`/v1/api-keys/${key.id}`, { token: owner.token, body: { name: 'renamed' } });
    await sut.post(`/v1/api-keys/${key.id}/disable`, { token: owner.token });
    await sut.post(`/v1/api-keys/${key.id}/enable`, { token: owner.token });
    await sut.post(`/v1/api-keys/${key.id}/revoke`, { token: owner.token });
    await sut.delete(`/v1/api-keys/${key.id}`, { token: owner.token });
    await waitForNotices(7);
    expect(notices.map((notice) => notice.change)).toEqual(['created', 'rolled', 'updated', 'disabled', 'enabled', 'revoked', 'deleted']);
    expect(notices.every((notice) => notice.key_id === key.id && notice.org_id === owner.orgId && notice.public_key === null)).toBe(true);
    expect(notices[0].secret_hashes).toEqual([firstHash]);
    expect(new Set(notices[1].secret_hashes)).toEqual(new Set([firstHash, secondHash]));
    expect(new Set(notices[6].secret_hashes)).toEqual(new Set([firstHash, secondHash]));
  });

  it('never shows a secret again: not in answers, logs, or a pg_dump of the database', async () => {
    const secrets: string[] = [];
    const seen: string[] = [];
    for (const signing of [false, true]) {
      const created = await sut.post('/v1/api-keys', {
        token: owner.token,
        body: { name: `leak check ${signing}`, environment: 'test', signing },
      });
      expect(created.status).toBe(201);
      secrets.push(created.body.data.secret);
      const id = created.body.data.id;
      const rolled = await sut.post(`/v1/api-keys/${id}/roll`, { token: owner.token });
      secrets.push(rolled.body.data.secret);
      seen.push((await sut.get(`/v1/api-keys/${id}`, { token: owner.token })).text);
      seen.push((await sut.get('/v1/api-keys', { token: owner.token })).text);
      seen.push((await sut.patch(`/v1/api-keys/${id}`, { token: owner.token, body: { name: 'x' } })).text);
      seen.push((await sut.post(`/v1/api-keys/${id}/disable`, { token: owner.token })).text);
      seen.push((await sut.post(`/v1/api-keys/${id}/enable`, { token: owner.token })).text);
      seen.push((await sut.get('/v1/audit-logs', { token: owner.token })).text);
      seen.push((await sut.post(`/v1/api-keys/${id}/revoke`, { token: owner.token })).text);
      seen.push((await sut.delete(`/v1/api-keys/${id}`, { token: owner.token })).text);
    }
    const { stdout: dump } = await run('pg_dump', ['--data-only', sut.env.databaseUrl], { maxBuffer: 64 * 1024 * 1024 });
    expect(dump).toContain('api_key.created');
    expect(logs.lines.length).toBeGreaterThan(0);
    const bodies = seen.join('\n');
    expect(bodies).toContain('leak check');
    for (const secret of secrets) {
      const body = secret.slice(8, 40);
      expect(bodies).not.toContain(body);
      expect(logs.text).not.toContain(body);
      expect(dump).not.toContain(body);
    }
    expect(bodies).not.toMatch(/"secret"|secret_hash|sealed/);
  });
});
