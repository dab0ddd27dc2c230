import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/** Type-only key: carries a contract's message type, never present at run time. */
declare const messageType: unique symbol;

/**
 * How every receiver compiles a contract's schema with Ajv: strict on purpose, no type
 * coercion and no unknown field silently removed (Fastify's default Ajv does both), so
 * `{"key": 123}` is refused rather than read as "123"; every error collected, so the
 * most telling one can be named. One object, so the parsers and the contract specs
 * judge a payload alike.
 */
export const RECEIVER_AJV_OPTIONS = { allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false } as const;

/**
 * What a Redis-transport message must look like: a JSON schema, which every receiver
 * compiles once and checks the message against, and the words to use instead of the
 * schema's generic ones for a field whose value is wrong (`body`: the message as a
 * whole). The message's TypeScript type `T` is derived from the schema where the
 * contract is declared (`messageContract`), so the checked shape and the typed one
 * cannot drift (docs/decisions/0009-message-contracts.md).
 *
 * Plain data and a type-only import: an SDK bundles this without a validator or Nest.
 */
export interface MessageContract<T = unknown> {
  readonly schema: JSONSchema;
  readonly messages: Readonly<Record<string, string>>;
  readonly [messageType]?: T;
}

/** The type of a message that passed its contract. */
export type MessageOf<C> = C extends MessageContract<infer T> ? T : never;

/**
 * Declares a contract. `const` keeps the schema's literal types, which the message type
 * is read from: a schema that allows exactly one of its fields (`minProperties` and
 * `maxProperties` 1) reads as a union of those fields, which the schema-to-type
 * derivation alone would give as all fields optional.
 */
export function messageContract<const S extends JSONSchema>(
  schema: S,
  messages: Readonly<Record<string, string>> = {},
): MessageContract<S extends { minProperties: 1; maxProperties: 1 } ? ExactlyOne<FromSchema<S>> : FromSchema<S>> {
  return { schema, messages };
}

type ExactlyOne<T> = {
  [K in keyof T]-?: { [P in K]-?: Exclude<T[P], undefined> } & { [O in Exclude<keyof T, K>]?: undefined };
}[keyof T];
