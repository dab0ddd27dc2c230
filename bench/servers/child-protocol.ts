import { NestFastifyApplication } from '@nestjs/platform-fastify';

/** What a bench server tells its parent over IPC once it listens. */
export interface ListeningMessage {
  type: 'listening';
  port: number;
}

/**
 * Sends the port to the parent and closes the app when the parent says `stop` or goes
 * away (IPC rather than signals: createLatchkeyApp has its own shutdown hooks).
 */
export function announceListening(app: NestFastifyApplication): void {
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ type: 'listening', port } satisfies ListeningMessage);
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    // A stuck close must not keep the process: the parent also SIGKILLs after its own deadline.
    setTimeout(() => process.exit(0), 10_000).unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stop') close();
  });
  process.on('disconnect', close);
}
