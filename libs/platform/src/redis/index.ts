export * from './redis-connection';
export * from './redis.service';
export * from './redis-script';
export * from './sliding-window.script';
export * from './redis-batch';
export * from './replica-wait';
