export * from './direct-rpc-handlers';
export * from './redis-streams.transport';
export * from './rpc-client.service';
export * from './message-contract.pipe';
