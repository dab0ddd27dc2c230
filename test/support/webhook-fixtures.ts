import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

import { EntityManager } from '@mikro-orm/postgresql';
import { Type } from '@nestjs/common';

import { EventType } from '@latchkey/contracts';
import { SecretBox } from '@latchkey/crypto';
import { Organization, WebhookEndpoint } from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';
import { OutboxService } from '@latchkey/outbox';

import { sampleApiKeyEventData } from './event-samples';

/** Where the fixtures get the EntityManager and OutboxService: an e2e app or an integration harness. */
export interface ProviderSource {
  get<T>(type: Type<T>): T;
}

/** One request as a subscriber saw it. */
export interface ReceivedHook {
  webhookId: string;
  path: string;
  at: number;
  /** The request body as sent (the event, for a delivery). */
  body: string;
}

/**
 * A subscriber on 127.0.0.1 for fault tests and the bench: counts every request
 * by webhook-id, answers 200 after `delayMs`, or never for paths in `hanging`.
 */
export class HookReceiver {
  readonly requests: ReceivedHook[] = [];
  readonly firstSeen = new Map<string, number>();
  delayMs = 0;
  readonly hanging = new Set<string>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<HookReceiver> {
    const server = createServer();
    const receiver = new HookReceiver(server);
    server.keepAliveTimeout = 1_000;
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const webhookId = String(request.headers['webhook-id'] ?? '');
        const path = request.url ?? '/';
        const at = Date.now();
        receiver.requests.push({ webhookId, path, at, body: Buffer.concat(chunks).toString('utf8') });
        if (!receiver.firstSeen.has(webhookId)) receiver.firstSeen.set(webhookId, at);
        if (receiver.hanging.has(path)) return; // never answers: the sender's deadline ends it
        const answer = () => response.writeHead(200).end('ok');
        if (receiver.delayMs > 0) setTimeout(answer, receiver.delayMs);
        else answer();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  url(path = '/hooks'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Distinct webhook-ids seen. */
  get distinct(): number {
    return this.firstSeen.size;
  }

  /** webhook-id → how many times it arrived, for those that arrived more than once. */
  duplicates(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { webhookId } of this.requests) counts.set(webhookId, (counts.get(webhookId) ?? 0) + 1);
    return new Map([...counts].filter(([, count]) => count > 1));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }
}

/** An endpoint as org-api stores it (the secret sealed with the endpoint id as context). */
export async function addHookEndpoint(
  app: ProviderSource,
  encryptionKey: string,
  orgId: string,
  url: string,
  events: string[] = [EventType.ApiKeyCreated],
): Promise<string> {
  const em = app.get(EntityManager).fork();
  const id = newId(IdPrefix.WebhookEndpoint);
  em.create(WebhookEndpoint, {
    id,
    organization: em.getReference(Organization, orgId),
    environment: 'test',
    url,
    events,
    secretSealed: new SecretBox(encryptionKey).seal(`whsec_${randomBytes(24).toString('base64')}`, id),
    previousSecretSealed: null,
    previousSecretExpiresAt: null,
    rateLimitPerSecond: null,
    createdBy: 'usr_test',
  });
  await em.flush();
  return id;
}

/** Commits `count` events through the outbox in one transaction, as key changes would; returns their ids. */
export async function commitOutboxEvents(app: ProviderSource, orgId: string, count: number): Promise<string[]> {
  const em = app.get(EntityManager).fork();
  const outbox = app.get(OutboxService);
  const rows = Array.from({ length: count }, (_, index) =>
    outbox.add(em, { orgId, environment: 'test', type: EventType.ApiKeyCreated, data: sampleApiKeyEventData(index) }),
  );
  await em.flush();
  return rows.map((row) => row.id);
}
