import { createRedisClient, redisConnectionOptions, RedisPurpose } from './redis-connection';

const PRODUCTION_URL = 'rediss://latchkey:p%40ss%2Fw0rd@redis.internal:6380/2';

describe('redisConnectionOptions', () => {
  it.each(Object.values(RedisPurpose))('keeps the ACL user, the decoded password, the database and TLS for a %s connection', (purpose) => {
    expect(redisConnectionOptions(PRODUCTION_URL, purpose)).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      username: 'latchkey',
      password: 'p@ss/w0rd',
      db: 2,
      tls: {},
    });
  });

  it('connects in plain text, as the default user, to database 0 for a bare redis:// URL', () => {
    const options = redisConnectionOptions('redis://127.0.0.1', RedisPurpose.Command);

    expect(options).toMatchObject({ host: '127.0.0.1', port: 6379 });
    expect(options).not.toHaveProperty('tls');
    expect(options).not.toHaveProperty('username');
    expect(options).not.toHaveProperty('password');
    expect(options).not.toHaveProperty('db');
  });

  it('reads the URL from the config', () => {
    const config = { get: (key: 'REDIS_URL') => (key === 'REDIS_URL' ? 'redis://cache.internal:6390/4' : '') };

    expect(redisConnectionOptions(config, RedisPurpose.Command)).toMatchObject({ host: 'cache.internal', port: 6390, db: 4 });
  });

  it('gives an IPv6 host without its brackets', () => {
    expect(redisConnectionOptions('redis://[::1]:6379', RedisPurpose.Command).host).toBe('::1');
  });

  it('fails a command fast on command, producer and RPC connections', () => {
    for (const purpose of [RedisPurpose.Command, RedisPurpose.QueueProducer, RedisPurpose.Rpc]) {
      expect(redisConnectionOptions(PRODUCTION_URL, purpose).maxRetriesPerRequest).toBe(1);
    }
  });

  it('lets a worker connection wait for Redis, as BullMQ requires', () => {
    expect(redisConnectionOptions(PRODUCTION_URL, RedisPurpose.QueueWorker).maxRetriesPerRequest).toBeNull();
  });

  it('connects a subscriber only when asked, and leaves resubscribing to its owner', () => {
    expect(redisConnectionOptions(PRODUCTION_URL, RedisPurpose.Subscriber)).toMatchObject({
      lazyConnect: true,
      autoResubscribe: false,
      maxRetriesPerRequest: null,
    });
  });

  it('reconnects with a bounded back-off, the subscriber sooner than the others', () => {
    const backoff = (purpose: RedisPurpose) => {
      const retry = redisConnectionOptions(PRODUCTION_URL, purpose).retryStrategy;
      return [1, 5, 100].map((attempt) => retry?.(attempt));
    };

    expect(backoff(RedisPurpose.Command)).toEqual([200, 1_000, 2_000]);
    expect(backoff(RedisPurpose.QueueProducer)).toEqual([200, 1_000, 2_000]);
    expect(backoff(RedisPurpose.QueueWorker)).toEqual([200, 1_000, 2_000]);
    expect(backoff(RedisPurpose.Subscriber)).toEqual([100, 500, 1_000]);
  });

  it('lets overrides win over the profile', () => {
    expect(redisConnectionOptions(PRODUCTION_URL, RedisPurpose.Subscriber, { connectionName: 'x', lazyConnect: false })).toMatchObject({
      connectionName: 'x',
      lazyConnect: false,
      password: 'p@ss/w0rd',
    });
  });

  it.each([
    ['http://redis.internal', /redis:\/\/ or rediss:\/\//],
    ['redis://redis.internal/zero', /database/],
    ['redis://redis.internal?family=6', /query parameters/],
  ])('refuses %s', (url, message) => {
    expect(() => redisConnectionOptions(url, RedisPurpose.Command)).toThrow(message);
  });
});

describe('createRedisClient', () => {
  it('builds the client from the same options', () => {
    const client = createRedisClient(PRODUCTION_URL, RedisPurpose.Subscriber, { connectionName: 'named' });
    try {
      expect(client.options).toMatchObject({ host: 'redis.internal', port: 6380, db: 2, lazyConnect: true, connectionName: 'named' });
      expect(client.status).toBe('wait');
    } finally {
      client.disconnect();
    }
  });
});
