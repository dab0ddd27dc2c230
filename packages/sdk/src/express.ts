/** `@latchkey/sdk/express`: middleware verifying each request's key (docs/sdk.md#express-and-fastify). Express is not a dependency. */
export { latchkeyExpress } from './express/latchkey-express';
export type { ExpressLikeNext, ExpressLikeRequest, ExpressLikeResponse, LatchkeyExpressOptions } from './express/latchkey-express';
export type { KeyRequirement, TrustProxy } from './guard/guard-request';
