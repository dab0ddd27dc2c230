export * from './errors';
export { RedisRpcCaller } from './rpc-caller';
export type { RedisConnection, RpcCallerOptions } from './rpc-caller';
export { RedisRpcResponder } from './rpc-responder';
export type { RpcResponderOptions } from './rpc-responder';
export * from './wire';
