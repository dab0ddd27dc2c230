import { Cluster } from 'ioredis';

import { clusterNodesOf, clusterOptions, createRedisClient, redisConnectionOptions, RedisPurpose } from './redis-connection';

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

describe('on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  const config = (nodes: string | undefined, url = PRODUCTION_URL.replace('/2', '')) => ({
    get: (key: 'REDIS_URL' | 'REDIS_CLUSTER_NODES') => (key === 'REDIS_URL' ? url : nodes),
  });

  it('reads the seed nodes, and none from a bare URL or a config without them', () => {
    expect(clusterNodesOf(config(' a.internal:7000, 10.0.0.2:7001 '))).toEqual([
      { host: 'a.internal', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(clusterNodesOf(config(undefined))).toBeUndefined();
    expect(clusterNodesOf('redis://127.0.0.1:6379')).toBeUndefined();
  });

  it("logs in to every node as REDIS_URL's user, over TLS for rediss://, with the purpose's settings", () => {
    const options = clusterOptions(config('a.internal:7000'), RedisPurpose.QueueWorker);

    expect(options.redisOptions).toMatchObject({ username: 'latchkey', password: 'p@ss/w0rd', tls: {}, maxRetriesPerRequest: null });
    expect(options.redisOptions).not.toHaveProperty('host');
    expect(options.redisOptions).not.toHaveProperty('port');
    expect(options.clusterRetryStrategy?.(3, new Error('down'))).toBe(600);
  });

  it('refuses a REDIS_URL naming a database other than 0: a cluster has only that one', () => {
    expect(() => clusterOptions(config('a.internal:7000', PRODUCTION_URL), RedisPurpose.Command)).toThrow(/only database 0/);
  });

  it('builds a cluster client only when the config names the nodes', () => {
    const cluster = createRedisClient(config('127.0.0.1:7000'), RedisPurpose.Command, { lazyConnect: true });
    const single = createRedisClient('redis://127.0.0.1:6379', RedisPurpose.Command, { lazyConnect: true });
    try {
      expect(cluster).toBeInstanceOf(Cluster);
      expect(single).not.toBeInstanceOf(Cluster);
    } finally {
      cluster.disconnect();
      single.disconnect();
    }
  });
});
