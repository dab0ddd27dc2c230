import { Readable } from 'node:stream';

import { clientIp, guardCall, KeyRequirement, TrustProxy } from '../guard/guard-request';
import type { PassingVerdict } from '../verifier/verdict';
import type { Verifier } from '../verifier/verifier';

export interface LatchkeyFastifyOptions extends KeyRequirement {
  verifier: Verifier;
  /**
   * Which `x-forwarded-for` hops to believe for the client address; unset, the hook uses
   * `request.ip`, which honours Fastify's own `trustProxy`.
   */
  trustProxy?: TrustProxy;
}

/** The request as a Fastify hook sees it: typed by shape, so the SDK depends on no Fastify version. */
export interface FastifyLikeRequest {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  method?: string;
  url?: string;
  body?: unknown;
  rawBody?: string | Uint8Array;
  raw?: { socket?: { remoteAddress?: string } };
  latchkey?: PassingVerdict;
}

export interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  send(body: unknown): unknown;
}

/**
 * A preHandler verifying the request's key: `{ preHandler: latchkeyPreHandler({ verifier,
 * permissions }) }` on a route, or `app.addHook('preHandler', …)`. A passing verdict is
 * `request.latchkey`; a refusal is answered as the Nest guard answers it. For a signing
 * key the raw body is `request.rawBody` (which the latchkeyFastify plugin keeps), else a
 * string or Buffer body.
 */
export function latchkeyPreHandler(options: LatchkeyFastifyOptions) {
  const { verifier, trustProxy, ...requirement } = options;
  return async function latchkey(request: FastifyLikeRequest, reply: FastifyLikeReply): Promise<void> {
    const outcome = await guardCall(verifier, requirement, {
      headers: request.headers,
      ip: trustProxy === undefined ? request.ip : clientIp(request.headers, request.raw?.socket?.remoteAddress, trustProxy),
      method: request.method,
      path: request.url,
      rawBody: request.rawBody ?? (typeof request.body === 'string' || request.body instanceof Uint8Array ? request.body : undefined),
    });
    if (outcome.pass) {
      request.latchkey = outcome.verdict;
      return;
    }
    reply.code(outcome.answer.status);
    for (const [name, value] of Object.entries(outcome.answer.headers)) reply.header(name, value);
    await reply.send(outcome.answer.body);
  };
}

interface PayloadStream extends AsyncIterable<Buffer | string> {
  receivedEncodedLength?: number;
}

interface FastifyLikeInstance {
  addHook(
    name: 'preParsing',
    hook: (request: FastifyLikeRequest, reply: unknown, payload: PayloadStream) => Promise<PayloadStream>,
  ): unknown;
  addHook(name: 'preHandler', hook: (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<void>): unknown;
}

/**
 * A Fastify plugin guarding every route of the context that registers it (it is not
 * encapsulated, like a fastify-plugin one): `app.register(async (scope) => { await
 * scope.register(latchkeyFastify, { verifier, permissions }); scope.get(…) })`.
 * Besides the preHandler it keeps the raw body of a signed request as `request.rawBody`,
 * so a signing key's signature is checked over the bytes the caller sent.
 */
export async function latchkeyFastify(instance: FastifyLikeInstance, options: LatchkeyFastifyOptions): Promise<void> {
  instance.addHook('preParsing', async (request, _reply, payload) => {
    if (typeof request.headers['x-signature'] !== 'string') return payload;
    const chunks: Buffer[] = [];
    for await (const chunk of payload) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    const body = Buffer.concat(chunks);
    request.rawBody = body;
    const replay: PayloadStream = Readable.from([body]);
    replay.receivedEncodedLength = payload.receivedEncodedLength ?? body.length;
    return replay;
  });
  instance.addHook('preHandler', latchkeyPreHandler(options));
}

// Fastify's marker for a plugin whose hooks belong to the registering context, not to a child of its own.
Object.defineProperty(latchkeyFastify, Symbol.for('skip-override'), { value: true });
