/** `@latchkey/sdk/fastify`: a preHandler and a plugin verifying each request's key (docs/sdk.md#express-and-fastify). Typed by shape: no Fastify dependency. */
export { latchkeyFastify, latchkeyPreHandler } from './fastify/latchkey-fastify';
export type { FastifyLikeReply, FastifyLikeRequest, LatchkeyFastifyOptions } from './fastify/latchkey-fastify';
export type { KeyRequirement, TrustProxy } from './guard/guard-request';
