import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';

import { DomainEvent, EVENTS_JOB, EVENTS_QUEUE, EventType } from '@latchkey/contracts';
import { SecretBox } from '@latchkey/crypto';
import {
  AuditLog,
  DeliveryStatus,
  Organization,
  OutboxEvent,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookEndpoint,
} from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';
import { OutboxService } from '@latchkey/outbox';
import { MetricsService, RedisService } from '@latchkey/platform';

import { sampleApiKeyEventData, webhookEventErrors } from '../../../../test/support/event-samples';
import { seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { waitUntil } from '../../../../test/support/wait-until';
import { EventsQueueProducer } from '../outbox-relay/events-queue.producer';
import { OutboxRelayService } from '../outbox-relay/outbox-relay.service';
import { ReminderMailsProducer } from '../reminder-mail/reminder-mails.producer';
import { EndpointDisabling } from './endpoint-disabling';
import { WebhookDeliveriesProducer } from './webhook-deliveries.producer';
import { WebhookDeliveryMetrics } from './webhook-delivery.metrics';
import { MAX_IN_FLIGHT_PER_ENDPOINT, WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookFanoutProcessor } from './webhook-fanout.processor';

/**
 * What usage-worker runs for webhooks, against Postgres, Redis and real subscribers on
 * 127.0.0.1: the outbox relay, the fan-out and the delivery worker, with no HTTP API.
 * Events are committed through the outbox and endpoints written as org-api stores them.
 * A delivery through the public routes (an endpoint made with POST /v1/webhooks, an
 * event from POST /v1/api-keys) is test/e2e/usage-worker/webhook-delivery.e2e-spec.ts.
 */
const PROVIDERS = [
  EndpointDisabling,
  EventsQueueProducer,
  MetricsService,
  OutboxRelayService,
  RedisService,
  ReminderMailsProducer,
  WebhookDeliveriesProducer,
  WebhookDeliveryMetrics,
  WebhookDeliveryProcessor,
  WebhookFanoutProcessor,
];

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: DomainEvent;
  at: number;
  /** The status the receiver answered with. */
  status: number;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
  body?: string;
}

/**
 * A subscriber on 127.0.0.1: records every request and answers as `reply` says. It
 * keeps idle connections for a minute, so a connection that closes sooner was closed
 * by the sender; it counts the connections it accepted and those still open.
 */
class Receiver {
  readonly requests: Received[] = [];
  reply: (request: Omit<Received, 'status'>) => Reply = () => ({ status: 200 });
  connections = 0;
  readonly open = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.keepAliveTimeout = 60_000;
    server.on('connection', (socket: Socket) => {
      receiver.connections += 1;
      receiver.open.add(socket);
      socket.on('close', () => receiver.open.delete(socket));
    });
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const seen = { headers: request.headers, body, event: JSON.parse(body) as DomainEvent, at: Date.now() };
        const reply = receiver.reply(seen);
        receiver.requests.push({ ...seen, status: reply.status });
        const answer = () => {
          response.writeHead(reply.status, reply.headers ?? {});
          response.end(reply.body ?? 'ok');
        };
        if (reply.delayMs) setTimeout(answer, reply.delayMs);
        else answer();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  of(eventId: string): Received[] {
    return this.requests.filter((request) => request.event.id === eventId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }
}

function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

interface EndpointOptions {
  events?: string[];
  environment?: 'test' | 'live';
  previousSecret?: { secret: string; expiresAt: Date };
  rateLimitPerSecond?: number;
}

/** An endpoint as org-api stores it: the secret sealed with the endpoint id as context. */
async function addEndpoint(
  app: ServiceHarness,
  orgId: string,
  url: string,
  options: EndpointOptions = {},
): Promise<{ id: string; secret: string }> {
  const em = app.em();
  const box = new SecretBox(app.config.ENCRYPTION_KEY);
  const id = newId(IdPrefix.WebhookEndpoint);
  const secret = newSecret();
  em.create(WebhookEndpoint, {
    id,
    organization: em.getReference(Organization, orgId),
    environment: options.environment ?? 'test',
    url,
    events: options.events ?? [EventType.ApiKeyCreated],
    secretSealed: box.seal(secret, id),
    previousSecretSealed: options.previousSecret ? box.seal(options.previousSecret.secret, id) : null,
    previousSecretExpiresAt: options.previousSecret?.expiresAt ?? null,
    rateLimitPerSecond: options.rateLimitPerSecond ?? null,
    createdBy: 'usr_test',
  });
  await em.flush();
  return { id, secret };
}

/** Commits events through the outbox, as a key change would. */
async function commitEvents(
  app: ServiceHarness,
  orgId: string,
  count: number,
  type: typeof EventType.ApiKeyCreated | typeof EventType.ApiKeyUpdated = EventType.ApiKeyCreated,
): Promise<string[]> {
  const em = app.em();
  const outbox = app.get(OutboxService);
  const rows = Array.from({ length: count }, (_, index) =>
    outbox.add(em, { orgId, environment: 'test', type, data: sampleApiKeyEventData(index) }),
  );
  await em.flush();
  return rows.map((row) => row.id);
}

function deliveriesOf(app: ServiceHarness, where: Record<string, unknown>): Promise<WebhookDelivery[]> {
  return app.em().find(WebhookDelivery, where, { orderBy: { createdAt: 'asc' } });
}

async function endpointRow(app: ServiceHarness, id: string): Promise<WebhookEndpoint> {
  return app.em().findOneOrFail(WebhookEndpoint, { id });
}

async function metric(app: ServiceHarness, name: string, labels: Record<string, string> = {}): Promise<number> {
  const value = await app.get(MetricsService).registry.getSingleMetric(name)?.get();
  return (value?.values ?? [])
    .filter((sample) => Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))
    .reduce((sum, sample) => sum + sample.value, 0);
}

function signatureHeaders(received: Received): Record<string, string> {
  return {
    'webhook-id': String(received.headers['webhook-id']),
    'webhook-timestamp': String(received.headers['webhook-timestamp']),
    'webhook-signature': String(received.headers['webhook-signature']),
  };
}

/** Both subscriber libraries accept the message with this secret (they throw otherwise). */
function expectVerifies(received: Received, secret: string): void {
  expect(new StandardWebhook(secret).verify(received.body, signatureHeaders(received))).toEqual(received.event);
  expect(new SvixWebhook(secret).verify(received.body, signatureHeaders(received))).toEqual(received.event);
}

function gaps(requests: Received[]): number[] {
  return requests.slice(1).map((request, index) => request.at - requests[index].at);
}

describe('webhook fan-out and delivery', () => {
  let sut: ServiceHarness;
  const receivers: Receiver[] = [];

  async function receiver(): Promise<Receiver> {
    const started = await Receiver.start();
    receivers.push(started);
    return started;
  }

  beforeAll(async () => {
    sut = await ServiceHarness.start({
      config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '200ms,400ms,800ms' },
      providers: PROVIDERS,
    });
  });

  afterAll(async () => {
    await sut.close();
    await Promise.all(receivers.map((started) => started.close()));
  });

  it('delivers an api_key.created event within a second of the commit, signed so standardwebhooks and svix both accept it', async () => {
    const hook = await receiver();
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, hook.url);

    const [eventId] = await commitEvents(sut, owner.orgId, 1);
    const committedAt = Date.now();
    await waitUntil(() => hook.requests.length === 1, 3_000, 'the first attempt');
    const [received] = hook.requests;
    expect(received.at - committedAt).toBeLessThan(1_000);

    expect(received.headers['content-type']).toBe('application/json');
    expect(received.event).toEqual({
      id: eventId,
      type: EventType.ApiKeyCreated,
      created_at: expect.any(String),
      org_id: owner.orgId,
      environment: 'test',
      data: expect.objectContaining({ id: expect.stringMatching(/^key_/), name: 'key 0' }),
    });
    // The payload as the OpenAPI document promises it (WebhookEvent.api_key.created).
    expect(webhookEventErrors(received.event)).toEqual([]);
    expect(received.headers['webhook-id']).toBe(received.event.id);
    expect(Math.abs(Number(received.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(received.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expectVerifies(received, endpoint.secret);
    expect(() => new StandardWebhook(newSecret()).verify(received.body, signatureHeaders(received))).toThrow();

    await waitUntil(
      async () => (await deliveriesOf(sut, { endpoint: endpoint.id }))[0]?.status === DeliveryStatus.Succeeded,
      2_000,
      'success recorded',
    );
    const [delivery] = await deliveriesOf(sut, { endpoint: endpoint.id });
    expect(delivery).toMatchObject({
      eventId: received.event.id,
      eventType: EventType.ApiKeyCreated,
      attemptCount: 1,
      lastStatusCode: 200,
    });
    const attempts = await sut.em().find(WebhookDeliveryAttempt, { delivery: delivery.id });
    expect(attempts).toEqual([expect.objectContaining({ statusCode: 200, responseBody: 'ok', error: null })]);
  });

  it('retries on the compressed schedule with the same webhook-id, then gives up', async () => {
    const hook = await receiver();
    hook.reply = () => ({ status: 500, body: 'x'.repeat(5_000) });
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, hook.url);
    const [eventId] = await commitEvents(sut, owner.orgId, 1);

    await waitUntil(async () => (await deliveriesOf(sut, { eventId }))[0]?.status === DeliveryStatus.Failed, 6_000, 'the delivery to fail');
    const requests = hook.of(eventId);
    expect(requests).toHaveLength(4);
    expect(new Set(requests.map((request) => request.headers['webhook-id']))).toEqual(new Set([eventId]));
    requests.forEach((request) => expectVerifies(request, endpoint.secret));
    // 200 ms, 400 ms, 800 ms, each ±10 %, plus a little processing time.
    gaps(requests).forEach((gap, index) => {
      const planned = [200, 400, 800][index];
      expect(gap).toBeGreaterThanOrEqual(planned * 0.9 - 5);
      expect(gap).toBeLessThan(planned * 1.1 + 250);
    });
    const [delivery] = await deliveriesOf(sut, { eventId });
    expect(delivery).toMatchObject({ attemptCount: 4, lastStatusCode: 500, nextAttemptAt: null });
    const attempts = await sut.em().find(WebhookDeliveryAttempt, { delivery: delivery.id });
    expect(attempts).toHaveLength(4);
    // Only the first 1 KiB of the response is kept.
    expect(attempts[0].responseBody).toHaveLength(1024);
    expect((await endpointRow(sut, endpoint.id)).failingSince).toBeInstanceOf(Date);
  });

  it('honours a longer Retry-After on 429, and a success clears failing_since', async () => {
    const hook = await receiver();
    hook.reply = () => (hook.requests.length === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 });
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, hook.url);
    const [eventId] = await commitEvents(sut, owner.orgId, 1);

    await waitUntil(() => hook.of(eventId).length === 2, 5_000, 'the retry');
    const [gap] = gaps(hook.of(eventId));
    expect(gap).toBeGreaterThanOrEqual(1_950);
    expect(gap).toBeLessThan(2_600);
    await waitUntil(async () => (await deliveriesOf(sut, { eventId }))[0]?.status === DeliveryStatus.Succeeded, 2_000, 'success');
    expect((await endpointRow(sut, endpoint.id)).failingSince).toBeNull();
  });

  it('disables an endpoint that answers 410 Gone and announces it to the org’s other endpoints and in the audit log', async () => {
    const gone = await receiver();
    gone.reply = () => ({ status: 410 });
    const watcher = await receiver();
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, gone.url);
    const other = await addEndpoint(sut, owner.orgId, watcher.url, { events: [EventType.WebhookEndpointDisabled] });
    const [eventId] = await commitEvents(sut, owner.orgId, 1);

    await waitUntil(() => watcher.requests.length === 1, 5_000, 'the announcement');
    const [announcement] = watcher.requests;
    expect(announcement.event).toMatchObject({
      type: EventType.WebhookEndpointDisabled,
      org_id: owner.orgId,
      data: { endpoint_id: endpoint.id, url: gone.url, reason: 'gone' },
    });
    expect(webhookEventErrors(announcement.event)).toEqual([]);
    expectVerifies(announcement, other.secret);
    expect(gone.of(eventId)).toHaveLength(1);
    expect(await endpointRow(sut, endpoint.id)).toMatchObject({ disabledAt: expect.any(Date), disabledReason: 'gone' });
    // Its keep-alive connection is closed with it (before the sender's 4 s idle timeout would).
    expect(sut.get(WebhookDeliveryProcessor).hasAgent(endpoint.id)).toBe(false);
    await waitUntil(() => gone.open.size === 0, 3_000, 'the connection to the gone endpoint to close');
    expect((await deliveriesOf(sut, { eventId }))[0]).toMatchObject({
      status: DeliveryStatus.Failed,
      attemptCount: 1,
      lastStatusCode: 410,
    });
    const audit = await sut.em().find(AuditLog, { orgId: owner.orgId, action: EventType.WebhookEndpointDisabled });
    expect(audit).toEqual([expect.objectContaining({ actorType: 'system', targetId: endpoint.id })]);

    // Later events skip it.
    const [later] = await commitEvents(sut, owner.orgId, 1);
    await sleep(700);
    expect(gone.of(later)).toHaveLength(0);
    expect(await deliveriesOf(sut, { eventId: later })).toHaveLength(0);
  });

  it('opens the breaker of a dead endpoint, sends nothing while it is open, and delivers everything once it recovers', async () => {
    const hook = await receiver();
    let dead = true;
    hook.reply = () => (dead ? { status: 503 } : { status: 200 });
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, hook.url);
    const processor = sut.get(WebhookDeliveryProcessor);
    const heldBefore = await metric(sut, 'webhook_deliveries_total', { outcome: 'held' });

    const eventIds = await commitEvents(sut, owner.orgId, 20);
    await waitUntil(() => processor.breakerOpen(endpoint.id), 3_000, 'the breaker to open');
    expect(await metric(sut, 'webhook_breaker_open')).toBeGreaterThanOrEqual(1);
    await sleep(300);
    const whenOpened = hook.requests.length;
    // Without a breaker: 20 deliveries × 4 attempts in 1.4 s. With it: the first wave (at most the
    // per-endpoint cap in flight, then the volume threshold) ...
    expect(whenOpened).toBeLessThanOrEqual(16);
    await sleep(2_000);
    // ... and then only a probe per reset timeout (1 s here) while it stays open.
    expect(hook.requests.length - whenOpened).toBeLessThanOrEqual(3);
    expect(await metric(sut, 'webhook_deliveries_total', { outcome: 'held' })).toBeGreaterThan(heldBefore);

    dead = false;
    await waitUntil(
      () => eventIds.every((id) => hook.of(id).some((request) => request.status === 200)),
      8_000,
      'every event delivered after recovery',
    );
    await waitUntil(
      async () => (await deliveriesOf(sut, { endpoint: endpoint.id })).every((delivery) => delivery.status === DeliveryStatus.Succeeded),
      2_000,
      'every delivery recorded as succeeded',
    );
    const deliveries = await deliveriesOf(sut, { endpoint: endpoint.id });
    expect(deliveries).toHaveLength(20);
    // Held deliveries were not charged an attempt: every attempt counted is a request the endpoint
    // saw (how many there were before the breaker opened depends on the machine's speed).
    expect(deliveries.map((delivery) => delivery.attemptCount)).toEqual(deliveries.map((delivery) => hook.of(delivery.eventId).length));
    expect(processor.breakerOpen(endpoint.id)).toBe(false);
  }, 20_000);

  it('does not duplicate deliveries when an event is fanned out again', async () => {
    const hook = await receiver();
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, hook.url);
    const [eventId] = await commitEvents(sut, owner.orgId, 1);
    await waitUntil(() => hook.of(eventId).length === 1, 3_000, 'the first delivery');

    const row = await sut.em().findOneOrFail(OutboxEvent, { id: eventId });
    const event: DomainEvent = {
      id: row.id,
      type: row.type as EventType,
      created_at: row.createdAt.toISOString(),
      org_id: row.orgId,
      environment: 'test',
      data: row.data,
    };
    // Redelivered through the queue (a new job for the same event) and run twice side by side.
    await sut.queue<DomainEvent>(EVENTS_QUEUE).add(EVENTS_JOB, event, { jobId: `${event.id}-again` });
    const fanout = sut.get(WebhookFanoutProcessor);
    await Promise.all([fanout.fanOut(event), fanout.fanOut(event)]);
    await sleep(1_000);

    expect(hook.of(eventId)).toHaveLength(1);
    expect(await deliveriesOf(sut, { eventId })).toEqual([
      expect.objectContaining({ endpoint: expect.objectContaining({ id: endpoint.id }) }),
    ]);
  });

  it('delivers a burst to one endpoint over a few kept-alive connections, not one per delivery', async () => {
    const hook = await receiver();
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, hook.url);
    const eventIds = await commitEvents(sut, owner.orgId, 40);

    await waitUntil(() => eventIds.every((id) => hook.of(id).length === 1), 10_000, 'every event');
    expect(hook.connections).toBeLessThanOrEqual(MAX_IN_FLIGHT_PER_ENDPOINT);
    expect(sut.get(WebhookDeliveryProcessor).hasAgent(endpoint.id)).toBe(true);
    await waitUntil(
      async () => (await deliveriesOf(sut, { endpoint: endpoint.id })).every((delivery) => delivery.status === DeliveryStatus.Succeeded),
      2_000,
      'every delivery recorded as succeeded',
    );
  });

  it('closes the connections to an endpoint an admin disabled as soon as a delivery for it comes up', async () => {
    const hook = await receiver();
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, hook.url);
    const processor = sut.get(WebhookDeliveryProcessor);
    const [first] = await commitEvents(sut, owner.orgId, 1);
    await waitUntil(() => hook.of(first).length === 1, 3_000, 'the first delivery');
    await waitUntil(() => processor.hasAgent(endpoint.id) && hook.open.size > 0, 1_000, 'a kept-alive connection');

    // Disabled through org-api's route in real life; here the row as it leaves it.
    const em = sut.em();
    await em.nativeUpdate(WebhookEndpoint, { id: endpoint.id }, { disabledAt: new Date(), disabledReason: 'manual' });
    // webhook.test still goes to a disabled endpoint: its delivery fails with a note, and nothing is sent.
    const test = em.fork();
    const event = sut
      .get(OutboxService)
      .add(test, { orgId: owner.orgId, environment: 'test', type: EventType.WebhookTest, data: { endpoint_id: endpoint.id } });
    await test.flush();

    await waitUntil(async () => (await deliveriesOf(sut, { eventId: event.id }))[0]?.status === DeliveryStatus.Failed, 3_000, 'the note');
    expect(processor.hasAgent(endpoint.id)).toBe(false);
    await waitUntil(() => hook.open.size === 0, 3_000, 'the kept-alive connection to close');
    expect(hook.of(event.id)).toHaveLength(0);
  });

  it('signs with both secrets while a rotated-out secret is still valid, and only the current one after', async () => {
    const hook = await receiver();
    const owner = await seedOrg(sut.em());
    const oldSecret = newSecret();
    const rotating = await addEndpoint(sut, owner.orgId, hook.url, {
      previousSecret: { secret: oldSecret, expiresAt: new Date(Date.now() + 86_400_000) },
    });
    const expiredOld = newSecret();
    const rotated = await addEndpoint(sut, owner.orgId, hook.url, {
      previousSecret: { secret: expiredOld, expiresAt: new Date(Date.now() - 1_000) },
    });
    const [eventId] = await commitEvents(sut, owner.orgId, 1);
    await waitUntil(() => hook.of(eventId).length === 2, 3_000, 'both deliveries');
    await waitUntil(
      async () => {
        const deliveries = await deliveriesOf(sut, { eventId });
        return deliveries.length === 2 && deliveries.every((delivery) => delivery.status === DeliveryStatus.Succeeded);
      },
      2_000,
      'both recorded',
    );

    const signatures = (received: Received) => String(received.headers['webhook-signature']).split(' ');
    const byEndpoint = async (id: string) => {
      const [delivery] = await deliveriesOf(sut, { endpoint: id });
      const attempt = await sut.em().findOneOrFail(WebhookDeliveryAttempt, { delivery: delivery.id });
      expect(attempt.statusCode).toBe(200);
      return hook.of(eventId).filter((request) => {
        try {
          new StandardWebhook(id === rotating.id ? rotating.secret : rotated.secret).verify(request.body, signatureHeaders(request));
          return true;
        } catch {
          return false;
        }
      });
    };
    const [both] = await byEndpoint(rotating.id);
    expect(signatures(both)).toHaveLength(2);
    expectVerifies(both, rotating.secret);
    expectVerifies(both, oldSecret);

    const [single] = await byEndpoint(rotated.id);
    expect(signatures(single)).toHaveLength(1);
    expectVerifies(single, rotated.secret);
    expect(() => new SvixWebhook(expiredOld).verify(single.body, signatureHeaders(single))).toThrow();
  });

  it('keeps to an endpoint’s rate_limit_per_second without losing or charging anything', async () => {
    const TRANSIT_JITTER_MS = 100;
    const hook = await receiver();
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, hook.url, { rateLimitPerSecond: 2 });
    const eventIds = await commitEvents(sut, owner.orgId, 6);

    await waitUntil(() => eventIds.every((id) => hook.of(id).length === 1), 6_000, 'every event');
    // No second anywhere, window edges included, holds more than 2 sends: any 3rd arrival
    // after one comes a full second later (less what transit time may vary by).
    const arrivals = hook.requests.map((request) => request.at).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(6);
    for (let index = 0; index + 2 < arrivals.length; index += 1) {
      expect(arrivals[index + 2] - arrivals[index]).toBeGreaterThanOrEqual(1_000 - TRANSIT_JITTER_MS);
    }
    await waitUntil(
      async () => (await deliveriesOf(sut, { endpoint: endpoint.id })).every((delivery) => delivery.status === DeliveryStatus.Succeeded),
      2_000,
      'every delivery succeeded',
    );
    expect((await deliveriesOf(sut, { endpoint: endpoint.id })).map((delivery) => delivery.attemptCount)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('keeps a healthy endpoint on time while another one takes 5 s to answer', async () => {
    const slow = await receiver();
    slow.reply = () => ({ status: 200, delayMs: 5_000 });
    const healthy = await receiver();
    const owner = await seedOrg(sut.em());
    await addEndpoint(sut, owner.orgId, slow.url);
    await addEndpoint(sut, owner.orgId, healthy.url);
    const started = Date.now();
    const eventIds = await commitEvents(sut, owner.orgId, 20);

    await waitUntil(() => eventIds.every((id) => healthy.of(id).length === 1), 4_000, 'the healthy endpoint to get every event');
    // All of it before the slow endpoint has answered even its first request.
    expect(Date.now()).toBeLessThan(slow.requests[0].at + 5_000);
    expect(Date.now() - started).toBeLessThan(4_000);
    // The slow one holds a few sends at a time; the rest of its deliveries wait aside, uncounted.
    expect(slow.requests.length).toBeLessThanOrEqual(8);
  });
});

describe('webhook endpoints failing for WEBHOOK_DISABLE_AFTER', () => {
  let sut: ServiceHarness;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    sut = await ServiceHarness.start({
      config: {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: Array(30).fill('300ms').join(','),
        WEBHOOK_DISABLE_AFTER: '2s',
      },
      providers: PROVIDERS,
    });
  });

  afterAll(async () => {
    await sut.close();
    await Promise.all(receivers.map((started) => started.close()));
  });

  it('disables an endpoint that has failed for 2 s (compressed from 5 days) and announces it', async () => {
    const failing = await Receiver.start();
    const watcher = await Receiver.start();
    receivers.push(failing, watcher);
    failing.reply = () => ({ status: 500 });
    const owner = await seedOrg(sut.em());
    const endpoint = await addEndpoint(sut, owner.orgId, failing.url);
    await addEndpoint(sut, owner.orgId, watcher.url, { events: ['*'] });
    const [eventId] = await commitEvents(sut, owner.orgId, 1);

    await waitUntil(
      () => watcher.requests.some((request) => request.event.type === EventType.WebhookEndpointDisabled),
      8_000,
      'the announcement',
    );
    const row = await endpointRow(sut, endpoint.id);
    expect(row).toMatchObject({ disabledReason: 'failing', disabledAt: expect.any(Date), failingSince: expect.any(Date) });
    expect(row.disabledAt!.getTime() - row.failingSince!.getTime()).toBeGreaterThanOrEqual(2_000);
    const announcement = watcher.requests.find((request) => request.event.type === EventType.WebhookEndpointDisabled)!;
    expect(announcement.event.data).toEqual({ endpoint_id: endpoint.id, url: failing.url, reason: 'failing' });
    expect((await deliveriesOf(sut, { eventId, endpoint: endpoint.id }))[0]).toMatchObject({ status: DeliveryStatus.Failed });
    const audit = await sut.em().find(AuditLog, { orgId: owner.orgId, action: EventType.WebhookEndpointDisabled });
    expect(audit).toEqual([expect.objectContaining({ actorType: 'system', targetId: endpoint.id })]);
    // The healthy endpoint got the original event as well.
    expect(watcher.of(eventId)).toHaveLength(1);
  }, 15_000);
});

describe('webhook targets on private addresses', () => {
  let sut: ServiceHarness;
  let hook: Receiver;

  beforeAll(async () => {
    sut = await ServiceHarness.start({
      config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false', WEBHOOK_RETRY_SCHEDULE: '1h' },
      providers: PROVIDERS,
    });
    hook = await Receiver.start();
  });

  afterAll(async () => {
    await sut.close();
    await hook.close();
  });

  it('refuses at delivery time a target that is or resolves to a loopback address', async () => {
    const owner = await seedOrg(sut.em());
    const literal = await addEndpoint(sut, owner.orgId, hook.url);
    const named = await addEndpoint(sut, owner.orgId, hook.url.replace('127.0.0.1', 'localhost'));
    const [eventId] = await commitEvents(sut, owner.orgId, 1);

    await waitUntil(
      async () => {
        const deliveries = await deliveriesOf(sut, { eventId });
        return deliveries.length === 2 && deliveries.every((delivery) => delivery.attemptCount === 1);
      },
      3_000,
      'both attempts',
    );
    expect(hook.requests).toHaveLength(0);
    const em = sut.em();
    for (const endpoint of [literal, named]) {
      const [delivery] = await deliveriesOf(sut, { endpoint: endpoint.id });
      const attempts = await em.find(WebhookDeliveryAttempt, { delivery: delivery.id });
      expect(attempts).toEqual([
        expect.objectContaining({ statusCode: null, error: "refused: the URL's host must resolve to a public address" }),
      ]);
    }
  });
});
