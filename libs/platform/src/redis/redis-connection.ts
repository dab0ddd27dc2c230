import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';

/**
 * Where the Redis settings come from: the app's config (REDIS_URL, and REDIS_CLUSTER_NODES
 * for a cluster), or a bare URL (tools and tests, always a single node).
 */
export type RedisUrlSource = string | { get(key: 'REDIS_URL' | 'REDIS_CLUSTER_NODES'): string | undefined };

/** A connection to a single Redis or to a Redis Cluster: both take the same commands. */
export type RedisClient = Redis | Cluster;

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

/**
 * A client for `purpose`: a single-node connection from REDIS_URL, or, when the config
 * names REDIS_CLUSTER_NODES, a cluster client that logs in to every node as REDIS_URL's
 * user. The caller attaches its 'error' listener and closes it.
 */
export function createRedisClient(source: RedisUrlSource, purpose: RedisPurpose, overrides: RedisOptions = {}): RedisClient {
  const nodes = clusterNodesOf(source);
  if (!nodes) return new Redis(redisConnectionOptions(source, purpose, overrides));
  return new Cluster(nodes, clusterOptions(source, purpose, overrides));
}

/** The cluster's seed nodes, when the deployment runs on a Redis Cluster. */
export function clusterNodesOf(source: RedisUrlSource): Array<{ host: string; port: number }> | undefined {
  const list = typeof source === 'string' ? undefined : source.get('REDIS_CLUSTER_NODES');
  if (!list) return undefined;
  return list.split(',').map((node) => {
    const [host, port] = node.trim().split(':');
    return { host, port: Number(port) };
  });
}

/**
 * The same purpose's settings for a cluster client: what concerns one connection goes
 * to every node's connection, the reconnect back-off to the cluster's own.
 */
export function clusterOptions(source: RedisUrlSource, purpose: RedisPurpose, overrides: RedisOptions = {}): ClusterOptions {
  const { retryStrategy, lazyConnect, enableOfflineQueue, db, ...perNode } = redisConnectionOptions(source, purpose, overrides);
  // The seed nodes say where; REDIS_URL's host is not one of them.
  delete perNode.host;
  delete perNode.port;
  if (db !== undefined && db !== 0) throw new Error('a Redis Cluster has only database 0: REDIS_URL must not name another');
  return {
    redisOptions: perNode,
    clusterRetryStrategy: retryStrategy ? (attempt) => retryStrategy(attempt) ?? null : undefined,
    lazyConnect,
    enableOfflineQueue,
    // A failover takes a few seconds: commands wait for the new master rather than fail at once.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 2_000,
    // TLS certificates name the cluster's endpoint, not each node's address (ElastiCache, MemoryDB).
    ...(perNode.tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
  };
}

function redisUrlOf(source: RedisUrlSource): string {
  return typeof source === 'string' ? source : source.get('REDIS_URL')!;
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
