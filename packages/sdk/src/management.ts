/**
 * `@latchkey/sdk/management`: the management client alone, with nothing that needs Node
 * (no node:crypto, no ioredis), for browsers such as the console.
 */
export * from './core/errors';
export { HttpClient } from './core/http-client';
export type { HttpClientOptions, RequestOptions } from './core/http-client';
export { PageList } from './core/pagination';
export type { Page } from './core/pagination';
export type { RetryPolicy } from './core/retry';
export type { components, operations, paths } from './generated/openapi';
export { Latchkey } from './management/latchkey';
export type { CallOptions, LatchkeyOptions } from './management/latchkey';
export type { ListItem, OperationId, QueryOf, RequestBody, ResponseData } from './management/operation-types';
