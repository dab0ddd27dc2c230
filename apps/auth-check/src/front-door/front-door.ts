import { createServer, IncomingHttpHeaders, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';

import proxyAddr from '@fastify/proxy-addr';
import { Logger } from '@nestjs/common';
import querystring from 'fast-querystring';
import secureJson from 'secure-json-parse';

import { compileTrustProxy, errorAnswer, RequestBodyError, TrustProxyFn } from '@latchkey/platform';

import { isPromiseLike, MaybePromise } from './maybe-promise';

/** A request as a front-door route sees it: already identified, addressed and parsed. */
export interface FrontDoorRequest {
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  /** Repeated parameters are arrays, as in Fastify. */
  readonly query: Record<string, string | string[] | undefined>;
  /** The client address, from X-Forwarded-For only when the hop that sent it is trusted (TRUST_PROXY). */
  readonly ip: string;
  /** The JSON body of a POST (undefined when there is none); always undefined for GET. */
  readonly body: unknown;
}

export interface FrontDoorAnswer {
  status: number;
  /** Extra headers; content type, length and x-request-id are the front door's. */
  headers: Record<string, string>;
  /** Sent as JSON; undefined sends no body at all (Content-Length: 0, no content type). */
  body: unknown;
}

export interface FrontDoorRoute {
  method: 'GET' | 'POST';
  /** Exact path, without query string. */
  path: string;
  /** Throws (or rejects with) AppErrors for refusals; anything else becomes a logged 500. May answer synchronously. */
  handle(request: FrontDoorRequest): MaybePromise<FrontDoorAnswer>;
}

export interface FrontDoorOptions {
  trustProxy: boolean | string[];
  bodyLimit: number;
  /** Ids that look like Fastify's (genReqId), so they look alike on every route. */
  requestId: () => string;
}

type Observer = (method: string, route: string, statusCode: number, seconds: number) => void;

/** The part of Fastify's options it passes to `serverFactory` that a server must apply. */
interface ServerTimeouts {
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/**
 * A few routes answered by the Node HTTP server itself, before Fastify sees the
 * request. The key-check routes are called for every request of every customer, and
 * Fastify's routing, hooks and reply pipeline (plus Nest's hooks on them) cost several
 * times the check itself (docs/decisions/0001-front-door-before-fastify.md; the figures
 * are in docs/performance.md#results-log). What those layers gave these routes is
 * done here once, on purpose and no more: request id, client address (with the same
 * trust rules), query and JSON body parsing with the same limits and error envelope,
 * and the request-duration metric. Every other request goes to Fastify untouched, and
 * so does anything these routes do not match exactly (HEAD, other methods, other
 * spellings of the path), where the documented Nest controller answers the same way.
 */
export class FrontDoor {
  private readonly routes = new Map<string, FrontDoorRoute>();
  private readonly trust: TrustProxyFn;
  private readonly logger = new Logger(FrontDoor.name);
  private observer: Observer = () => undefined;

  constructor(private readonly options: FrontDoorOptions) {
    this.trust = compileTrustProxy(options.trustProxy);
  }

  register(route: FrontDoorRoute): void {
    this.routes.set(`${route.method} ${route.path}`, route);
  }

  /** Whether a request would be answered here (the tests send these over a real socket). */
  handles(method: string, url: string): boolean {
    return this.routes.has(`${method.toUpperCase()} ${pathOf(url)}`);
  }

  /** Called once per answer, with the route's path as its label (as Fastify's onResponse hook does for the others). */
  observeWith(observer: Observer): void {
    this.observer = observer;
  }

  /** For FastifyAdapter's `serverFactory`: the server Fastify listens on, with this in front. */
  readonly serverFactory = (fastify: RequestListener, options: ServerTimeouts = {}): Server => {
    const server = createServer((raw, response) => {
      const route = this.routes.get(`${raw.method} ${pathOf(raw.url ?? '/')}`);
      if (route) this.answer(route, raw, response);
      else fastify(raw, response);
    });
    // Fastify applies its timeouts only to a server it creates itself; its keep-alive
    // default (72 s) outlives the idle timeout of common load balancers, Node's (5 s) does not.
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };

  private answer(route: FrontDoorRoute, raw: IncomingMessage, response: ServerResponse): void {
    const started = performance.now();
    const id = this.options.requestId();
    const finish = (answer: FrontDoorAnswer) => {
      try {
        this.write(response, id, answer);
        this.observer(route.method, route.path, answer.status, (performance.now() - started) / 1000);
      } catch (error) {
        // Past the handler (a header value Node refuses, say) there is no envelope left to
        // send: drop the connection rather than let the error escape the server.
        this.logger.error({ err: error, request_id: id }, 'could not write the answer');
        response.destroy();
      }
    };
    const fail = (error: unknown) => finish(errorAnswer(error, id, this.logger));
    const run = (body: unknown) => {
      let answered: MaybePromise<FrontDoorAnswer>;
      try {
        const request: FrontDoorRequest = { id, headers: raw.headers, query: queryOf(raw.url ?? '/'), ip: this.clientIp(raw), body };
        answered = route.handle(request);
      } catch (error) {
        // A handler that throws is answered like one that rejects.
        fail(error);
        return;
      }
      if (isPromiseLike(answered)) answered.then(finish, fail);
      else finish(answered);
    };
    if (route.method === 'GET') {
      run(undefined);
      return;
    }
    this.readJsonBody(raw, run, (error) => {
      // The rest of the body is not read: the connection cannot be reused.
      response.shouldKeepAlive = false;
      fail(error);
    });
  }

  private clientIp(raw: IncomingMessage): string {
    const addresses = proxyAddr.all(raw, this.trust);
    return addresses[addresses.length - 1];
  }

  /**
   * Fastify's rules for a JSON body: none at all is fine without a content type, any
   * media type but JSON is a 415, over the limit a 413, empty or invalid JSON (and
   * prototype poisoning) a 400.
   */
  private readJsonBody(raw: IncomingMessage, done: (body: unknown) => void, refuse: (error: Error) => void): void {
    const contentType = raw.headers['content-type'];
    const declaredLength = raw.headers['content-length'];
    if (contentType === undefined) {
      const hasBody = raw.headers['transfer-encoding'] !== undefined || (declaredLength !== undefined && declaredLength !== '0');
      if (hasBody) return refuse(RequestBodyError.unsupportedMediaType());
      raw.resume();
      return done(undefined);
    }
    if (!JSON_MEDIA_TYPE.test(contentType)) return refuse(RequestBodyError.unsupportedMediaType());
    if (declaredLength !== undefined && Number(declaredLength) > this.options.bodyLimit) return refuse(RequestBodyError.tooLarge());

    const chunks: Buffer[] = [];
    let received = 0;
    let refused = false;
    raw.on('data', (chunk: Buffer) => {
      if (refused) return;
      received += chunk.length;
      if (received > this.options.bodyLimit) {
        refused = true;
        refuse(RequestBodyError.tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    raw.once('end', () => {
      if (refused) return;
      const text = Buffer.concat(chunks, received).toString('utf8');
      if (text.length === 0) return refuse(RequestBodyError.emptyJson());
      let body: unknown;
      try {
        body = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
      } catch {
        return refuse(RequestBodyError.invalidJson());
      }
      done(body);
    });
    // A client that goes away mid-body gets no answer; there is no one to send it to.
    raw.once('error', () => {
      refused = true;
    });
  }

  private write(response: ServerResponse, id: string, answer: FrontDoorAnswer): void {
    if (response.headersSent || response.destroyed) return;
    const headers = answer.headers;
    let payload = '';
    if (answer.body !== undefined) {
      payload = JSON.stringify(answer.body);
      headers['content-type'] = 'application/json; charset=utf-8';
    }
    headers['content-length'] = String(Buffer.byteLength(payload));
    headers['x-request-id'] = id;
    response.writeHead(answer.status, headers);
    response.end(payload);
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function queryOf(url: string): Record<string, string | string[] | undefined> {
  const query = url.indexOf('?');
  return query === -1 ? {} : (querystring.parse(url.slice(query + 1)) as Record<string, string | string[] | undefined>);
}
