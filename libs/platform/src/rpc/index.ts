export * from './prefixed-redis.transport';
export * from './rpc-client.service';
