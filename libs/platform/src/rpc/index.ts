export * from './prefixed-redis.transport';
export * from './rpc-client.service';
export * from './message-contract.pipe';
