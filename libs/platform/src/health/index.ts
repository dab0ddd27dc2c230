export * from './health.controller';
export * from './postgres.health';
export * from './redis.health';
