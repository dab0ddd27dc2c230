export * from './orgs/orgs.messages';
export * from './orgs/orgs.patterns';
