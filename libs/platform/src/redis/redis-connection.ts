import Redis, { RedisOptions } from 'ioredis';

/** Where the Redis URL comes from: the app's config, or a URL (tools and tests). */
export type RedisUrlSource = string | { get(key: 'REDIS_URL'): string };

/**
 * What a connection is for. Each purpose needs different behaviour while Redis is
 * away, so the settings are named here once instead of at every construction site.
 */
export const RedisPurpose = {
  /** Commands on the request path: fail fast (the caller answers 503 or degrades) and reconnect by itself. */
  Command: 'command',
  /** A BullMQ queue that adds jobs: a command fails fast; the producer's own back-off or its caller retries it. */
  QueueProducer: 'queue-producer',
  /** A BullMQ worker: its blocking connection must wait for Redis as long as it takes (BullMQ requires it). */
  QueueWorker: 'queue-worker',
  /** A pub/sub subscriber: connects when asked, and its owner resubscribes on every `ready`. */
  Subscriber: 'subscriber',
  /** RPC over Redis Streams: a send fails fast (the call's deadline is short anyway); its blocking reads retry in their own loop. */
  Rpc: 'rpc',
} as const;
export type RedisPurpose = (typeof RedisPurpose)[keyof typeof RedisPurpose];

/** Reconnects 200 ms later each time, at most 2 s apart: back within seconds of Redis, without hammering it. */
function reconnectBackoff(attempt: number): number {
  return Math.min(attempt * 200, 2_000);
}

/**
 * A subscriber that misses notices while down costs a cache flush per reconnect,
 * so it comes back sooner than the other connections.
 */
function subscriberBackoff(attempt: number): number {
  return Math.min(attempt * 100, 1_000);
}

const CONNECT_TIMEOUT_MS = 2_000;

const PROFILES: Record<RedisPurpose, RedisOptions> = {
  [RedisPurpose.Command]: {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectBackoff,
  },
  [RedisPurpose.QueueProducer]: {
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectBackoff,
  },
  [RedisPurpose.QueueWorker]: {
    maxRetriesPerRequest: null,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectBackoff,
  },
  [RedisPurpose.Subscriber]: {
    // The owner subscribes itself on every `ready`, so it knows when notices may have been lost.
    autoResubscribe: false,
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: subscriberBackoff,
  },
  [RedisPurpose.Rpc]: {
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectBackoff,
  },
};

/**
 * The one place that turns REDIS_URL into ioredis options: host, port, the ACL user,
 * the percent-decoded password, the database and TLS for rediss://, plus the
 * settings of `purpose`; `overrides` win. Every Redis client and BullMQ connection
 * of the apps is built from this, so a Redis Cluster mode (a different client
 * class and node list) is added here and nowhere else.
 */
export function redisConnectionOptions(source: RedisUrlSource, purpose: RedisPurpose, overrides: RedisOptions = {}): RedisOptions {
  return { ...endpointOf(redisUrlOf(source)), ...PROFILES[purpose], ...overrides };
}

/** A client for `purpose` (see redisConnectionOptions); the caller attaches its 'error' listener and closes it. */
export function createRedisClient(source: RedisUrlSource, purpose: RedisPurpose, overrides: RedisOptions = {}): Redis {
  return new Redis(redisConnectionOptions(source, purpose, overrides));
}

function redisUrlOf(source: RedisUrlSource): string {
  return typeof source === 'string' ? source : source.get('REDIS_URL');
}

/** Where to connect and as whom, from a redis:// or rediss:// URL (absent parts are left to ioredis's defaults). */
function endpointOf(redisUrl: string): RedisOptions {
  const url = new URL(redisUrl);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, not ${url.protocol}//`);
  }
  // Options in the query string were honoured by some clients and not others; refuse them
  // rather than ignore them.
  if (url.search) throw new Error('REDIS_URL takes no query parameters');
  const database = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  if (database !== undefined && !Number.isInteger(database)) throw new Error('REDIS_URL names a database that is not a number');
  const endpoint: RedisOptions = {
    // URL keeps an IPv6 host in brackets; ioredis wants the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port || 6379),
  };
  if (url.username) endpoint.username = decodeURIComponent(url.username);
  if (url.password) endpoint.password = decodeURIComponent(url.password);
  if (database !== undefined) endpoint.db = database;
  if (url.protocol === 'rediss:') endpoint.tls = {};
  return endpoint;
}
