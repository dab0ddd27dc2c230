import { once } from 'node:events';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';

import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';

import { DomainEvent, EventType } from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { webhookEventErrors } from '../../support/event-samples';
import { signUp } from '../../support/factories';
import { waitUntil } from '../../support/wait-until';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: DomainEvent;
  at: number;
}

/** A subscriber on 127.0.0.1 that records every request and answers 200. */
async function startReceiver(): Promise<{ server: Server; url: string; requests: Received[] }> {
  const requests: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ headers: request.headers, body, event: JSON.parse(body) as DomainEvent, at: Date.now() });
      response.writeHead(200).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, requests };
}

function signatureHeaders(received: Received): Record<string, string> {
  return {
    'webhook-id': String(received.headers['webhook-id']),
    'webhook-timestamp': String(received.headers['webhook-timestamp']),
    'webhook-signature': String(received.headers['webhook-signature']),
  };
}

/**
 * A webhook as a customer sets it up and receives it, through the public routes only:
 * an endpoint made with POST /v1/webhooks, an event from a key created with POST
 * /v1/api-keys, the delivery read back from GET /v1/webhooks/:id/deliveries. Retries,
 * the breaker, disabling, secret rotation, rate limits and private targets are tested
 * against the worker's services in apps/usage-worker/src/webhook-delivery/webhook-delivery.int-spec.ts.
 */
describe('usage-worker: webhook delivery through the public API', () => {
  let sut: TestApp;
  let hook: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    sut = await TestApp.start({ config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '200ms,400ms,800ms' } });
    hook = await startReceiver();
  });

  afterAll(async () => {
    await sut.close();
    hook.server.closeAllConnections();
    hook.server.close();
  });

  it('delivers an api_key.created event within a second of the commit, signed so standardwebhooks and svix both accept it', async () => {
    const owner = await signUp(sut);
    const endpoint = await sut.post('/v1/webhooks', {
      token: owner.token,
      body: { url: hook.url, events: [EventType.ApiKeyCreated], environment: 'test' },
    });
    expect(endpoint.status).toBe(201);
    const secret = endpoint.body.data.secret as string;

    const created = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'ci', environment: 'test' } });
    expect(created.status).toBe(201);
    const committedAt = Date.now();
    await waitUntil(() => hook.requests.length === 1, 3_000, 'the first attempt');
    const [received] = hook.requests;
    expect(received.at - committedAt).toBeLessThan(1_000);

    expect(received.headers['content-type']).toBe('application/json');
    expect(received.event).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: EventType.ApiKeyCreated,
      created_at: expect.any(String),
      org_id: owner.orgId,
      environment: 'test',
      data: expect.objectContaining({ id: created.body.data.id }),
    });
    // The payload as the OpenAPI document promises it (WebhookEvent.api_key.created).
    expect(webhookEventErrors(received.event)).toEqual([]);
    expect(received.headers['webhook-id']).toBe(received.event.id);
    expect(Math.abs(Number(received.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(received.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(received.body).not.toContain(created.body.data.secret ?? 'no-secret-in-response');
    expect(new StandardWebhook(secret).verify(received.body, signatureHeaders(received))).toEqual(received.event);
    expect(new SvixWebhook(secret).verify(received.body, signatureHeaders(received))).toEqual(received.event);
    expect(() =>
      new StandardWebhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(received.body, signatureHeaders(received)),
    ).toThrow();

    // The delivery log shows it succeeded on its first attempt.
    const deliveries = async () => (await sut.get(`/v1/webhooks/${endpoint.body.data.id}/deliveries`, { token: owner.token })).body.data;
    await waitUntil(async () => (await deliveries())[0]?.status === 'succeeded', 2_000, 'success recorded');
    expect(await deliveries()).toEqual([
      expect.objectContaining({
        event_id: received.event.id,
        event_type: EventType.ApiKeyCreated,
        endpoint_id: endpoint.body.data.id,
        attempt_count: 1,
        attempts: [expect.objectContaining({ status_code: 200, response_body: 'ok', error: null })],
      }),
    ]);
  });
});
