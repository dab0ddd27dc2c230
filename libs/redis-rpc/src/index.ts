export * from './errors';
export { RedisConnection, RedisRpcCaller, RpcCallerOptions } from './rpc-caller';
export { RedisRpcResponder, RpcResponderOptions } from './rpc-responder';
export * from './wire';
