import Redis from 'ioredis';

import { deadRedisUrl, OwnRedisServer } from '../../../../test/support/own-redis-server';
import { loadScripts, RedisScript } from './redis-script';

const SCRIPT = new RedisScript("return 'forty-two'");

describe(loadScripts.name, () => {
  let server: OwnRedisServer;
  const clients: Redis[] = [];
  const client = (url: string) => {
    const created = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    created.on('error', () => undefined);
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    server = await OwnRedisServer.start();
  });

  afterAll(async () => {
    clients.forEach((created) => created.disconnect());
    await server.stop();
  });

  it('waits for a connection still being made, then loads the scripts so the first call is one EVALSHA', async () => {
    const connecting = client(server.url);
    expect(connecting.status).not.toBe('ready');
    await expect(loadScripts(connecting, [SCRIPT], 5_000)).resolves.toBe(true);
    const other = client(server.url);
    expect(await other.script('EXISTS', SCRIPT.sha)).toEqual([1]);
    expect(await other.evalsha(SCRIPT.sha, 0)).toBe('forty-two');
  });

  it('answers false, without throwing, when Redis does not answer', async () => {
    await expect(loadScripts(client(await deadRedisUrl()), [SCRIPT], 500)).resolves.toBe(false);
  });
});
