export * from './events/event-types';
export * from './events/events.queue';
export * from './keys/keys.messages';
export * from './keys/keys.patterns';
export * from './orgs/orgs.messages';
export * from './orgs/orgs.patterns';
export * from './auth-check/verify-codes';
export * from './usage/usage-events.queue';
