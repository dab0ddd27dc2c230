import type { operations } from '../generated/openapi';

/** An operation of docs/openapi.json by its operationId (`apiKeys.create`). */
export type OperationId = keyof operations;

type JsonOf<T> = T extends { content: { 'application/json': infer Json } } ? Json : never;
type Responses<K extends OperationId> = operations[K]['responses'];
type SuccessJson<K extends OperationId> = JsonOf<Responses<K>[Extract<keyof Responses<K>, 200 | 201 | 202>]>;

/** The JSON body an operation takes. */
export type RequestBody<K extends OperationId> = operations[K] extends { requestBody?: infer Body } ? JsonOf<NonNullable<Body>> : never;

/** The query parameters an operation takes (without `cursor`, which list iteration manages). */
export type QueryOf<K extends OperationId> = Omit<NonNullable<operations[K]['parameters']['query']>, 'cursor'>;

/** The envelope's `data` of an operation's success. */
export type ResponseData<K extends OperationId> = SuccessJson<K> extends { data: infer Data } ? Data : undefined;

/** One item of a list operation's page. */
export type ListItem<K extends OperationId> = ResponseData<K> extends Array<infer Item> ? Item : never;
