import { createServer, IncomingMessage, Server } from 'node:http';

import { verifyWebhook, WebhookEvent, WebhookVerificationError } from '@latchkey/sdk';

export interface ReceiverOptions {
  /** The endpoint's whsec_ secret; during a rotation both the new and the old one. */
  secrets: readonly string[];
  /** What the receiver does with each event it has not seen before. */
  onEvent(event: WebhookEvent): void | Promise<void>;
  /** The largest delivery read, in bytes. */
  bodyLimit?: number;
}

/**
 * A webhook endpoint at POST /webhooks/latchkey on plain node:http: it reads the raw
 * body (verification needs the exact bytes), verifies it with the SDK, answers 400 to
 * anything that does not verify and 204 to what does. Latchkey retries a delivery it
 * gets no 2xx for, so an event id already handled is acknowledged and skipped.
 */
export function createReceiver(options: ReceiverOptions): Server {
  const seen = new Set<string>();
  const limit = options.bodyLimit ?? 256 * 1024;
  return createServer((req, res) => {
    const answer = (status: number, body?: unknown) => {
      res.statusCode = status;
      if (body === undefined) return void res.end();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/webhooks/latchkey') return answer(404, { error: 'not found' });
    void readBody(req, limit)
      .then(async (payload) => {
        if (payload === null) return answer(413, { error: 'payload too large' });
        const event = verifyWebhook({ payload, headers: req.headers, secrets: options.secrets });
        if (!seen.has(event.id)) {
          await options.onEvent(event);
          seen.add(event.id);
        }
        answer(204);
      })
      .catch((error: unknown) => {
        if (error instanceof WebhookVerificationError) return answer(400, { error: error.reason });
        answer(500, { error: 'the handler failed' });
      });
  });
}

/** The body as sent, or null when it is over the limit. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
