import { connect, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy that can lose answers: after `loseNextAnswers(n)`, the next n times the
 * server starts answering on a connection, that connection is cut before the client
 * sees a byte. The request has reached the server and run; the client sees a
 * connection reset — the failure an Idempotency-Key exists for.
 */
export class AnswerLosingProxy {
  private readonly sockets = new Set<Socket>();
  private toLose = 0;
  /** How many answers were lost so far: proof that the failure really happened. */
  lost = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<AnswerLosingProxy> {
    const proxy: { current?: AnswerLosingProxy } = {};
    const server = createServer((client) => proxy.current?.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address !== 'object') throw new Error('proxy has no port');
    proxy.current = new AnswerLosingProxy(server, address.port);
    return proxy.current;
  }

  loseNextAnswers(count: number): void {
    this.toLose = count;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    const upstream = connect(port, host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    }
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (this.toLose > 0) {
        this.toLose -= 1;
        this.lost += 1;
        close();
        return;
      }
      client.write(chunk);
    });
    client.on('error', close).on('close', close).on('end', close);
    upstream.on('error', close).on('close', close).on('end', close);
  }
}
