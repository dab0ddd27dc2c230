import { IncomingMessage } from 'node:http';

import { IdPrefix, newId } from '@latchkey/db';

/**
 * Fastify's `genReqId`: every request gets a `req_…` id. It is also put on the raw
 * request so pino-http logs the same id, and echoed as `x-request-id`.
 */
export function generateRequestId(raw: IncomingMessage): string {
  const id = newId(IdPrefix.Request);
  (raw as IncomingMessage & { id?: string }).id = id;
  return id;
}
