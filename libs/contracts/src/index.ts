export * from './events/event-types';
export * from './events/events.queue';
export * from './keys/keys.messages';
export * from './keys/keys.patterns';
export * from './orgs/orgs.messages';
export * from './orgs/orgs.patterns';
