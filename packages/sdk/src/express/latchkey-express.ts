import { clientIp, guardCall, KeyRequirement, TrustProxy } from '../guard/guard-request';
import type { PassingVerdict } from '../verifier/verdict';
import type { Verifier } from '../verifier/verifier';

export interface LatchkeyExpressOptions extends KeyRequirement {
  verifier: Verifier;
  /** Which `x-forwarded-for` hops to believe for the client address (false: the socket's peer). */
  trustProxy?: TrustProxy;
  /** The largest body read for a signing key's signature, in bytes; 1 MiB unless set. */
  bodyLimit?: number;
}

/** The request as Express (or plain node:http) hands it over: typed by shape, Express is not a dependency. */
export interface ExpressLikeRequest {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  url?: string;
  originalUrl?: string;
  socket?: { remoteAddress?: string };
  body?: unknown;
  rawBody?: string | Uint8Array;
  readableEnded?: boolean;
  latchkey?: PassingVerdict;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface ExpressLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type ExpressLikeNext = (error?: unknown) => void;

/**
 * Express middleware guarding what is mounted after it: `app.use('/orders',
 * latchkeyExpress({ verifier, permissions: ['orders:read'] }))`. A passing key's verdict is
 * `req.latchkey`; a refusal is answered 401/403/429 (503 when Latchkey cannot be asked), in
 * the envelope and with the headers of the Nest guard. For a signing key the raw body is
 * `req.rawBody`, a Buffer or string `req.body` (express.raw/express.text), or, when no
 * parser has read the stream yet, read here and left on `req.rawBody`.
 */
export function latchkeyExpress(options: LatchkeyExpressOptions) {
  const { verifier, trustProxy, bodyLimit = 1024 * 1024, ...requirement } = options;
  return function latchkey(req: ExpressLikeRequest, res: ExpressLikeResponse, next: ExpressLikeNext): void {
    void (async () => {
      const rawBody = typeof req.headers['x-signature'] === 'string' ? await rawBodyOf(req, bodyLimit) : undefined;
      if (rawBody === TOO_LARGE) {
        send(
          res,
          413,
          {},
          {
            success: false,
            error: { code: 'PAYLOAD_TOO_LARGE', message: `A signed body may be at most ${bodyLimit} bytes.`, details: [] },
          },
        );
        return;
      }
      const outcome = await guardCall(verifier, requirement, {
        headers: req.headers,
        ip: clientIp(req.headers, req.socket?.remoteAddress, trustProxy),
        method: req.method,
        path: req.originalUrl ?? req.url,
        rawBody,
      });
      if (outcome.pass) {
        req.latchkey = outcome.verdict;
        next();
        return;
      }
      send(res, outcome.answer.status, outcome.answer.headers, outcome.answer.body);
    })().catch(next);
  };
}

const TOO_LARGE = Symbol('too large');

async function rawBodyOf(req: ExpressLikeRequest, limit: number): Promise<string | Uint8Array | typeof TOO_LARGE | undefined> {
  if (req.rawBody !== undefined) return req.rawBody;
  if (typeof req.body === 'string' || req.body instanceof Uint8Array) return req.body;
  if (req.readableEnded || req.body !== undefined) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  const read = await new Promise<Buffer | typeof TOO_LARGE>((resolve, reject) => {
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? TOO_LARGE : Buffer.concat(chunks)));
    req.on('error', reject);
  });
  if (read !== TOO_LARGE) req.rawBody = read;
  return read;
}

function send(res: ExpressLikeResponse, status: number, headers: Record<string, string>, body: unknown): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
