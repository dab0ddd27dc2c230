import { LookupAddress } from 'node:dns';
import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

import { waitUntil } from '../../../../test/support/wait-until';
import { EndpointAgents, EndpointAgentSettings } from './endpoint-agents';
import { postWebhook, SendResult } from './webhook-sender';
import { createGuardedLookup, NOT_PUBLIC_TARGET } from './webhook-target';

/** A subscriber on 127.0.0.1 that keeps connections open long after each answer, and counts them. */
class CountingServer {
  connections = 0;
  readonly open = new Set<Socket>();
  requests = 0;
  handle: (request: IncomingMessage, response: ServerResponse) => void = (_, response) => response.writeHead(200).end('ok');

  private constructor(private readonly server: Server) {}

  static async start(): Promise<CountingServer> {
    const server = createServer();
    const counting = new CountingServer(server);
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket: Socket) => {
      counting.connections += 1;
      counting.open.add(socket);
      socket.on('close', () => counting.open.delete(socket));
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      counting.requests += 1;
      request.resume();
      request.on('end', () => counting.handle(request, response));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return counting;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hooks', host = '127.0.0.1'): URL {
    return new URL(`http://${host}:${this.port}${path}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }
}

const SETTINGS: EndpointAgentSettings = { maxSockets: 2, freeSocketTimeoutMs: 10_000, idleMs: 60_000, maxAgents: 10 };

describe(EndpointAgents.name, () => {
  let server: CountingServer;
  let sut: EndpointAgents;

  const send = (endpointId: string, target: URL, timeoutMs = 2_000): Promise<SendResult> =>
    sut.use(endpointId, target, (agent) => postWebhook(target.href, {}, '{}', { timeoutMs, allowPrivateTargets: true, agent }));

  beforeEach(async () => {
    server = await CountingServer.start();
    sut = new EndpointAgents(SETTINGS);
  });

  afterEach(async () => {
    sut.closeAll();
    await server.close();
  });

  it('sends many deliveries to an endpoint over one kept-alive connection', async () => {
    for (let index = 0; index < 20; index += 1) {
      expect((await send('whe_a', server.url())).statusCode).toBe(200);
    }
    expect(server.requests).toBe(20);
    expect(server.connections).toBe(1);
  });

  it('never opens more than maxSockets connections to an endpoint, however many sends are in flight', async () => {
    server.handle = (_, response) => setTimeout(() => response.writeHead(200).end('ok'), 20);
    const results = await Promise.all(Array.from({ length: 10 }, () => send('whe_a', server.url())));
    expect(results.map((result) => result.statusCode)).toEqual(Array(10).fill(200));
    expect(server.connections).toBeLessThanOrEqual(SETTINGS.maxSockets);
  });

  it('gives each endpoint its own sockets: a hanging endpoint does not hold up its neighbour on the same host', async () => {
    server.handle = (request, response) => {
      if (request.url !== '/hang') response.writeHead(200).end('ok');
    };
    // Every socket of the hanging endpoint is taken ...
    const hanging = Array.from({ length: SETTINGS.maxSockets }, () => send('whe_hang', server.url('/hang'), 3_000));
    await waitUntil(() => server.requests === SETTINGS.maxSockets, 2_000, 'the hanging sends to arrive');
    // ... yet the neighbour is answered well within its own (shorter) deadline.
    expect((await send('whe_ok', server.url('/ok'), 1_000)).statusCode).toBe(200);
    for (const socket of server.open) socket.destroy();
    await Promise.all(hanging);
  });

  it('drops, rather than drains, a connection whose answer is longer than the 1 KiB it reads', async () => {
    server.handle = (_, response) => response.writeHead(500).end('x'.repeat(64 * 1024));
    expect((await send('whe_a', server.url())).responseBody).toHaveLength(1024);
    expect((await send('whe_a', server.url())).statusCode).toBe(500);
    expect(server.connections).toBe(2);
  });

  it('sends once more on a fresh connection when a kept-alive one is reset before any answer', async () => {
    let resets = 0;
    server.handle = (request, response) => {
      // The subscriber drops the second request that comes over an already used connection, once.
      if (server.requests === 2 && resets === 0) {
        resets += 1;
        request.socket.destroy();
        return;
      }
      response.writeHead(200).end('ok');
    };
    expect((await send('whe_a', server.url())).statusCode).toBe(200);
    const second = await send('whe_a', server.url());
    expect(second).toMatchObject({ statusCode: 200, error: null });
    expect(server.connections).toBe(2);
  });

  it('does not send again when a fresh connection is reset (that is a failed attempt)', async () => {
    server.handle = (request) => request.socket.destroy();
    const result = await send('whe_a', server.url());
    expect(result).toMatchObject({ statusCode: null, error: expect.stringMatching(/ECONNRESET/) });
    expect(server.requests).toBe(1);
  });

  it('closes an endpoint’s connections when its agent is closed (endpoint disabled)', async () => {
    await send('whe_a', server.url());
    expect(server.open.size).toBe(1);
    sut.close('whe_a');
    expect(sut.has('whe_a')).toBe(false);
    await waitUntil(() => server.open.size === 0, 2_000, 'the connection to close');
  });

  it('lets a send in flight finish when its endpoint is closed, then closes the connection', async () => {
    server.handle = (_, response) => setTimeout(() => response.writeHead(200).end('ok'), 100);
    const inFlight = send('whe_a', server.url());
    await waitUntil(() => server.requests === 1, 2_000, 'the send to arrive');
    sut.close('whe_a');
    expect((await inFlight).statusCode).toBe(200);
    await waitUntil(() => server.open.size === 0, 2_000, 'the connection to close');
  });

  it('moves to a new agent when the endpoint’s URL moves to another origin, and closes the old connections', async () => {
    const other = await CountingServer.start();
    try {
      await send('whe_a', server.url());
      await send('whe_a', other.url());
      expect(sut.size).toBe(1);
      await waitUntil(() => server.open.size === 0, 2_000, 'the old origin’s connection to close');
      expect(other.open.size).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('destroys agents left unused for idleMs, and only those', async () => {
    let now = 1_000_000;
    const clocked = new EndpointAgents({ ...SETTINGS, idleMs: 5_000 }, () => now);
    try {
      const post = (endpointId: string) =>
        clocked.use(endpointId, server.url(), (agent) =>
          postWebhook(server.url().href, {}, '{}', { timeoutMs: 2_000, allowPrivateTargets: true, agent }),
        );
      await post('whe_old');
      now += 3_000;
      await post('whe_recent');
      now += 2_000;
      expect(clocked.sweepIdle()).toBe(1);
      expect([clocked.has('whe_old'), clocked.has('whe_recent')]).toEqual([false, true]);
      await waitUntil(() => server.open.size === 1, 2_000, 'the idle agent’s connection to close');
    } finally {
      clocked.closeAll();
    }
  });

  it('keeps at most maxAgents, evicting the least recently used idle one', async () => {
    const small = new EndpointAgents({ ...SETTINGS, maxAgents: 2 });
    try {
      const post = (endpointId: string) =>
        small.use(endpointId, server.url(), (agent) =>
          postWebhook(server.url().href, {}, '{}', { timeoutMs: 2_000, allowPrivateTargets: true, agent }),
        );
      await post('whe_1');
      await post('whe_2');
      await post('whe_1');
      await post('whe_3');
      expect([small.has('whe_1'), small.has('whe_2'), small.has('whe_3')]).toEqual([true, false, true]);
    } finally {
      small.closeAll();
    }
  });

  describe('the connect-time address check (DNS rebinding)', () => {
    /** A resolver the test points anywhere; the policy accepts 127.0.0.1 only, standing in for "public". */
    let answer = '127.0.0.1';
    let lookups = 0;
    const resolve = (_: string, __: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => {
      lookups += 1;
      callback(null, [{ address: answer, family: 4 }]);
    };

    beforeEach(() => {
      answer = '127.0.0.1';
      lookups = 0;
    });

    const lookup = createGuardedLookup(resolve, (address) => address === '127.0.0.1');
    const sendTo = (target: URL) =>
      sut.use('whe_a', target, (agent) =>
        postWebhook(target.href, {}, '{}', { timeoutMs: 2_000, allowPrivateTargets: false, agent, lookup }),
      );

    it('checks the address of every new connection and refuses one that now resolves to a refused address', async () => {
      const target = server.url('/hooks', 'hooks.example.test');
      expect((await sendTo(target)).statusCode).toBe(200);
      expect(lookups).toBe(1);

      // The name is rebound, and the subscriber closes the idle connection: the next send needs a new one.
      answer = '10.0.0.1';
      for (const socket of server.open) socket.destroy();
      await waitUntil(() => server.open.size === 0, 2_000, 'the connection to close');
      const refused = await sendTo(target);
      expect(refused).toMatchObject({
        statusCode: null,
        error: NOT_PUBLIC_TARGET,
      });
      expect(server.requests).toBe(1);
      expect(lookups).toBeGreaterThanOrEqual(2);
    });

    it('judges an agent’s connections with the real DNS and policy when the send is given no resolver', async () => {
      const target = server.url('/hooks', 'localhost');
      const refused = await sut.use('whe_a', target, (agent) =>
        postWebhook(target.href, {}, '{}', { timeoutMs: 2_000, allowPrivateTargets: false, agent }),
      );
      expect(refused).toMatchObject({
        statusCode: null,
        error: NOT_PUBLIC_TARGET,
      });
      expect(server.requests).toBe(0);
    });

    it('reuses a connection already checked without resolving again', async () => {
      const target = server.url('/hooks', 'hooks.example.test');
      await sendTo(target);
      answer = '10.0.0.1';
      // Still connected to the 127.0.0.1 that was checked when the connection opened.
      expect((await sendTo(target)).statusCode).toBe(200);
      expect([lookups, server.connections]).toEqual([1, 1]);
    });
  });
});
