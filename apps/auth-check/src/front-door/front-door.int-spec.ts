import { IncomingMessage, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';

import { Logger } from '@nestjs/common';

import { AppError } from '@latchkey/platform';

import { FrontDoor, FrontDoorRequest } from './front-door';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * The front door over a real socket (it sits in the HTTP server, where injection
 * never reaches): what it answers itself, what it leaves to the fallback (Fastify in
 * the product), and that it keeps Fastify's rules for addresses and bodies.
 */
describe('FrontDoor', () => {
  const seen: FrontDoorRequest[] = [];
  const observed: [string, number][] = [];
  let fallbackCalls: string[];
  let servers: Server[];

  // The 500 case logs its error on purpose.
  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    seen.length = 0;
    observed.length = 0;
    fallbackCalls = [];
    servers = [];
  });

  afterEach(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function start(
    trustProxy: boolean | string[] = false,
    bodyLimit = 1024,
  ): Promise<(method: string, path: string, options?: Call) => Promise<Answer>> {
    let counter = 0;
    const door = new FrontDoor({ trustProxy, bodyLimit, requestId: () => `req_test${(counter += 1)}` });
    door.observeWith((method, route, status) => observed.push([`${method} ${route}`, status]));
    door.register({
      method: 'GET',
      path: '/echo',
      handle: async (req) => {
        seen.push(req);
        return { status: 203, headers: { 'x-extra': 'yes' }, body: { ip: req.ip, query: req.query } };
      },
    });
    door.register({
      method: 'POST',
      path: '/json',
      handle: async (req) => {
        seen.push(req);
        return { status: 200, headers: {}, body: { received: req.body ?? null } };
      },
    });
    door.register({
      method: 'GET',
      path: '/refuse',
      handle: async () => {
        throw new AppError('FORBIDDEN', 'Not you.');
      },
    });
    door.register({
      method: 'GET',
      path: '/bug',
      handle: async () => {
        throw new Error('boom');
      },
    });
    door.register({
      method: 'GET',
      path: '/bad-header',
      handle: async () => ({ status: 200, headers: { 'x-broken': 'line\nbreak' }, body: {} }),
    });
    door.register({
      method: 'GET',
      path: '/sync',
      handle: (req) => ({ status: 200, headers: { 'x-sync': 'yes' }, body: { id: req.id } }),
    });
    door.register({
      method: 'GET',
      path: '/no-body',
      handle: () => ({ status: 200, headers: { 'x-only': 'headers' }, body: undefined }),
    });
    door.register({
      method: 'GET',
      path: '/sync-bug',
      handle: () => {
        throw new Error('boom before any promise');
      },
    });
    const server = door.serverFactory((req, res) => {
      fallbackCalls.push(`${req.method} ${req.url}`);
      res.writeHead(299).end('fallback');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return (method, path, options) => call(port, method, path, options);
  }

  it('answers its routes itself, with the request id, JSON and the handler’s status and headers', async () => {
    const send = await start();
    const answer = await send('GET', '/echo?permissions=a,b&tag=x&tag=y');
    expect(answer.status).toBe(203);
    expect(answer.headers['x-extra']).toBe('yes');
    expect(answer.headers['x-request-id']).toBe('req_test1');
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.body.query).toEqual({ permissions: 'a,b', tag: ['x', 'y'] });
    expect(fallbackCalls).toEqual([]);
    expect(observed).toEqual([['GET /echo', 203]]);
  });

  it('sends no body at all, and no content type, for an answer without one', async () => {
    const send = await start();
    const answer = await send('GET', '/no-body');
    expect(answer.status).toBe(200);
    expect(answer.headers['x-only']).toBe('headers');
    expect(answer.headers['content-length']).toBe('0');
    expect(answer.headers['content-type']).toBeUndefined();
    expect(answer.body).toBe('');
  });

  it('answers a route that answers synchronously (no promise) just the same', async () => {
    const send = await start();
    const answer = await send('GET', '/sync');
    expect(answer.status).toBe(200);
    expect(answer.headers['x-sync']).toBe('yes');
    expect(answer.body).toEqual({ id: 'req_test1' });
    expect(observed).toEqual([['GET /sync', 200]]);
  });

  it('leaves every other method and spelling of the path to the fallback', async () => {
    const send = await start();
    for (const [method, path] of [
      ['HEAD', '/echo'],
      ['POST', '/echo'],
      ['GET', '/echo/'],
      ['GET', '/ECHO'],
      ['GET', '/other'],
    ]) {
      expect((await send(method, path)).status).toBe(299);
    }
    expect(fallbackCalls).toEqual(['HEAD /echo', 'POST /echo', 'GET /echo/', 'GET /ECHO', 'GET /other']);
    expect(seen).toEqual([]);
  });

  it('takes the client address from X-Forwarded-For only when the hop is trusted', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.9' };
    expect((await (await start(false))('GET', '/echo', { headers })).body.ip).toBe('127.0.0.1');
    expect((await (await start(true))('GET', '/echo', { headers })).body.ip).toBe('203.0.113.9');
    expect((await (await start(['10.0.0.0/8']))('GET', '/echo', { headers })).body.ip).toBe('127.0.0.1');
    expect((await (await start(['127.0.0.1']))('GET', '/echo', { headers })).body.ip).toBe('203.0.113.9');
  });

  it('parses a JSON body, and no body at all is undefined', async () => {
    const send = await start();
    expect((await send('POST', '/json', { json: '{"key":"k"}' })).body).toEqual({ received: { key: 'k' } });
    expect((await send('POST', '/json', { json: '{"key":"k"}', contentType: 'application/json; charset=utf-8' })).body).toEqual({
      received: { key: 'k' },
    });
    expect((await send('POST', '/json')).body).toEqual({ received: null });
    expect(seen.map((req) => req.body)).toEqual([{ key: 'k' }, { key: 'k' }, undefined]);
  });

  it('refuses bodies as Fastify does, in the error envelope, without calling the route', async () => {
    const send = await start(false, 64);
    const cases: [Call, number, string][] = [
      [{ json: 'key=k', contentType: 'application/x-www-form-urlencoded' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ json: '{"key":"k"}', contentType: null }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ json: `{"key":"${'k'.repeat(100)}"}` }, 413, 'PAYLOAD_TOO_LARGE'],
      [{ json: `{"key":"${'k'.repeat(100)}"}`, chunked: true }, 413, 'PAYLOAD_TOO_LARGE'],
      [{ json: '' }, 400, 'VALIDATION_FAILED'],
      [{ json: '{"key":' }, 400, 'INVALID_JSON'],
      [{ json: '{"__proto__":{"admin":true}}' }, 400, 'INVALID_JSON'],
    ];
    for (const [options, status, code] of cases) {
      const answer = await send('POST', '/json', options);
      expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
      expect(answer.body.error.request_id).toBe(answer.headers['x-request-id']);
    }
    expect(seen).toEqual([]);
  });

  it('drops the connection, and keeps serving, when an answer cannot be written', async () => {
    const send = await start();
    await expect(send('GET', '/bad-header')).rejects.toThrow();
    expect((await send('GET', '/echo')).status).toBe(203);
  });

  it('answers a refusal with its status and a bug with a 500 that names only the request id', async () => {
    const send = await start();
    const refused = await send('GET', '/refuse');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      success: false,
      error: { code: 'FORBIDDEN', message: 'Not you.', details: [], request_id: 'req_test1' },
    });
    for (const path of ['/bug', '/sync-bug']) {
      const bug = await send('GET', path);
      expect(bug.status).toBe(500);
      expect(bug.body.error.code).toBe('INTERNAL_ERROR');
      expect(JSON.stringify(bug.body)).not.toContain('boom');
    }
    expect(observed).toEqual([
      ['GET /refuse', 403],
      ['GET /bug', 500],
      ['GET /sync-bug', 500],
    ]);
  });
});

interface Call {
  headers?: Record<string, string>;
  json?: string;
  /** null: send no content type. */
  contentType?: string | null;
  chunked?: boolean;
}

function call(port: number, method: string, path: string, options: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.json !== undefined) {
    if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
    if (!options.chunked) headers['content-length'] = String(Buffer.byteLength(options.json));
  }
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (incoming: IncomingMessage) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON (the fallback's answer, or HEAD)
        }
        resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body });
      });
    });
    outgoing.on('error', reject);
    if (options.chunked && options.json !== undefined) {
      // Two writes without a length: sent with Transfer-Encoding: chunked.
      outgoing.write(options.json.slice(0, 10));
      outgoing.end(options.json.slice(10));
    } else {
      outgoing.end(options.json);
    }
  });
}
