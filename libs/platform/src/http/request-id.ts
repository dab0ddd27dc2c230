import { IncomingMessage } from 'node:http';

import { IdPrefix, newId } from '@latchkey/ids';

/**
 * Fastify's `genReqId`: every request gets a `req_…` id. It is also put on the raw
 * request so pino-http logs the same id, and echoed as `x-request-id`.
 */
export function generateRequestId(raw: IncomingMessage): string {
  const id = newRequestId();
  (raw as IncomingMessage & { id?: string }).id = id;
  return id;
}

/**
 * A `req_…` id and nothing else: for the front door's routes, which pino-http never
 * logs. Adding a property to the raw request changes its shape, which slows every
 * later access to it in Node's HTTP code (about a microsecond a request).
 */
export function newRequestId(): string {
  return newId(IdPrefix.Request);
}
