export * from './redis-connection';
export * from './redis.service';
export * from './redis-script';
export * from './rate-limit.script';
export * from './redis-batch';
export * from './replica-wait';
