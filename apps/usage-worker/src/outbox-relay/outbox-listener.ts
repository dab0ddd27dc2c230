import { Logger } from '@nestjs/common';
import { Client } from 'pg';

/** The channel the outbox_events trigger notifies on commit (migration OutboxNotify). */
export const OUTBOX_CHANNEL = 'outbox_events';
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5_000;

/**
 * A dedicated Postgres connection that LISTENs on the outbox channel and calls
 * `onNotify` for each notification. Not from the ORM's pool: LISTEN holds its
 * connection for good. A lost connection is re-opened with back-off; `listening`
 * says whether notifications can currently arrive, so the relay polls often while
 * they cannot, and only as a backstop while they can.
 */
export class OutboxListener {
  private readonly logger = new Logger(OutboxListener.name);
  private client: Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  listening = false;

  constructor(
    private readonly databaseUrl: string,
    /** 'notify': a commit notified; 'listening': (re)connected, so whatever committed unheard is picked up now. */
    private readonly onNotify: (why: 'notify' | 'listening') => void,
  ) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.listening = false;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    // TCP keep-alive so a connection that died silently (a failover without a reset) is
    // noticed and replaced, instead of leaving the relay on its poll without knowing.
    const client = new Client({
      connectionString: this.databaseUrl,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 5_000,
    });
    this.client = client;
    client.on('notification', () => this.onNotify('notify'));
    client.on('error', (error: Error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}`);
      if (this.stopped || this.client !== client) return;
      this.listening = true;
      this.failures = 0;
      // Whatever committed while no one listened is picked up now, not at the next poll.
      this.onNotify('listening');
    } catch (error) {
      this.lost(client, error as Error);
    }
  }

  private lost(client: Client, error: Error): void {
    if (this.client !== client) return; // an old connection's late events
    this.client = undefined;
    this.listening = false;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.failures += 1;
    const delay = Math.min(RECONNECT_MIN_MS * 2 ** this.failures, RECONNECT_MAX_MS);
    this.logger.warn(`outbox listener lost (${error.message}), reconnecting in ${delay} ms; polling meanwhile`);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }
}
