import { MikroORM } from '@mikro-orm/core';
import { Queue } from 'bullmq';

import {
  bullPrefix,
  EventType,
  Role,
  WEBHOOK_DELIVERIES_QUEUE,
  WEBHOOK_DELIVERY_JOB,
  WebhookDeliveryJobData,
  webhookDeliveryJobId,
} from '@latchkey/contracts';
import { SecretBox } from '@latchkey/crypto';
import {
  AuditLog,
  DeliveryStatus,
  OutboxEvent,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookDisabledReason,
  WebhookEndpoint,
} from '@latchkey/db';
import { IdPrefix, newId } from '@latchkey/ids';

import { CallResult, TestApp } from '../../support/create-test-app';
import { outboxEventErrors } from '../../support/event-samples';
import { orgWithEveryRole, UserSession } from '../../support/factories';
import { LogCapture } from '../../support/log-capture';

type Org = Awaited<ReturnType<typeof orgWithEveryRole>>;

const ROLES = [Role.Owner, Role.Admin, Role.Developer, Role.Viewer] as const;
const MANAGERS: readonly Role[] = [Role.Owner, Role.Admin];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;

describe('Webhook endpoints', () => {
  const logs = new LogCapture();
  let sut: TestApp;
  let org: Org;
  let other: Org;
  let queue: Queue<WebhookDeliveryJobData>;
  /** Every secret any answer showed, to prove none of them is stored or logged in clear. */
  const secretsSeen: string[] = [];

  beforeAll(async () => {
    // org-api alone: no delivery worker takes the jobs this file inspects.
    sut = await TestApp.start({ config: { TARGET: 'org-api', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'debug' }, logs });
    org = await orgWithEveryRole(sut);
    other = await orgWithEveryRole(sut);
    queue = new Queue(WEBHOOK_DELIVERIES_QUEUE, { prefix: bullPrefix(sut.config.REDIS_PREFIX), connection: { url: sut.config.REDIS_URL } });
  });

  afterAll(async () => {
    await queue.close();
    await sut.close();
  });

  const db = () => sut.app.get(MikroORM).em.fork();
  const box = () => new SecretBox(sut.config.ENCRYPTION_KEY);

  async function createEndpoint(session: UserSession = org.owner, body: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const response = await sut.post('/v1/webhooks', {
      token: session.token,
      body: { url: 'http://127.0.0.1:4000/hooks', events: ['api_key.created'], environment: 'test', ...body },
    });
    expect(response.status).toBe(201);
    secretsSeen.push(response.body.data.secret);
    return response.body.data;
  }

  /** The endpoint row as stored, every column (secrets included), for "nothing changed" checks. */
  async function row(id: string): Promise<Record<string, unknown> | null> {
    const endpoint = await db().findOne(WebhookEndpoint, { id });
    return endpoint ? { ...endpoint, secretSealed: endpoint.secretSealed, previousSecretSealed: endpoint.previousSecretSealed } : null;
  }

  const auditRows = (orgId: string, targetId: string) => db().find(AuditLog, { orgId, targetId }, { orderBy: { id: 'asc' } });

  async function seedDelivery(
    endpointId: string,
    orgId: string,
    fields: { status?: DeliveryStatus; eventType?: string; attempts?: number; createdAt?: Date } = {},
  ): Promise<WebhookDelivery> {
    const em = db();
    const delivery = em.create(WebhookDelivery, {
      orgId,
      endpoint: em.getReference(WebhookEndpoint, endpointId),
      eventId: newId(IdPrefix.Event),
      eventType: fields.eventType ?? EventType.ApiKeyCreated,
      payload: { hello: 'world' },
      status: fields.status ?? DeliveryStatus.Failed,
      attemptCount: fields.attempts ?? 2,
      createdAt: fields.createdAt ?? new Date(),
    });
    for (let attempt = 0; attempt < (fields.attempts ?? 2); attempt += 1) {
      em.create(WebhookDeliveryAttempt, {
        delivery,
        attemptedAt: new Date(Date.now() - (10 - attempt) * 1000),
        statusCode: attempt === 0 ? null : 500,
        durationMs: 12 + attempt,
        responseBody: attempt === 0 ? null : 'oops',
        error: attempt === 0 ? 'connect ECONNREFUSED' : null,
      });
    }
    await em.flush();
    return delivery;
  }

  describe('POST /v1/webhooks', () => {
    it('creates an endpoint and shows its whsec_ secret once, stored sealed to the endpoint id', async () => {
      const response = await sut.post('/v1/webhooks', {
        token: org.owner.token,
        body: {
          url: 'http://127.0.0.1:4000/hooks',
          events: ['api_key.created', 'member.added'],
          description: '  Billing  ',
          environment: 'test',
          rate_limit_per_second: 25,
        },
      });
      expect(response.status).toBe(201);
      const data = response.body.data;
      secretsSeen.push(data.secret);
      expect(data).toEqual({
        id: expect.stringMatching(/^whe_[0-9A-Z]{26}$/),
        url: 'http://127.0.0.1:4000/hooks',
        description: 'Billing',
        events: ['api_key.created', 'member.added'],
        environment: 'test',
        status: 'enabled',
        rate_limit_per_second: 25,
        disabled_at: null,
        disabled_reason: null,
        failing_since: null,
        previous_secret_expires_at: null,
        created_by: org.owner.userId,
        created_at: expect.stringMatching(ISO),
        updated_at: expect.stringMatching(ISO),
        secret: expect.stringMatching(SECRET),
      });
      const stored = await db().findOneOrFail(WebhookEndpoint, { id: data.id }, { populate: ['organization'] });
      expect(stored.organization.id).toBe(org.owner.orgId);
      expect(stored.secretSealed).not.toContain(data.secret.slice(6));
      expect(box().open(stored.secretSealed, data.id)).toBe(data.secret);
      expect(() => box().open(stored.secretSealed, 'whe_another')).toThrow();

      const audit = await auditRows(org.owner.orgId, data.id);
      expect(audit.map((entry) => entry.action)).toEqual(['webhook.created']);
      expect(audit[0].after).toMatchObject({ id: data.id, url: data.url, events: data.events });
    });

    it('accepts ["*"], a live environment and an https URL; admins create too', async () => {
      const data = await createEndpoint(org.admin, { url: 'https://localhost/x', events: ['*'], environment: 'live' });
      expect(data).toMatchObject({ events: ['*'], environment: 'live', url: 'https://localhost/x', rate_limit_per_second: null });
    });

    it.each([Role.Developer, Role.Viewer])('refuses a %s with 403 and creates nothing', async (role) => {
      const before = await db().count(WebhookEndpoint, { organization: org.owner.orgId });
      const response = await sut.post('/v1/webhooks', {
        token: org[role].token,
        body: { url: 'http://127.0.0.1:4000/hooks', events: ['*'], environment: 'test' },
      });
      expect(response.status).toBe(403);
      expect(await db().count(WebhookEndpoint, { organization: org.owner.orgId })).toBe(before);
    });

    it.each([
      ['a missing url', { url: undefined }],
      ['a url that is not one', { url: 'not a url' }],
      ['a relative url', { url: '/hooks' }],
      ['an ftp url', { url: 'ftp://example.com/hooks' }],
      ['credentials in the url', { url: 'https://user:pass@example.com/hooks' }],
      ['a url longer than 2048 characters', { url: `https://example.com/${'a'.repeat(2050)}` }],
      ['an unknown event type', { events: ['api_key.created', 'api_key.exploded'] }],
      ['empty events', { events: [] }],
      ['events that are not a list', { events: 'api_key.created' }],
      ['"*" beside other types', { events: ['*', 'api_key.created'] }],
      ['a repeated event type', { events: ['api_key.created', 'api_key.created'] }],
      ['a missing environment', { environment: undefined }],
      ['an unknown environment', { environment: 'staging' }],
      ['a zero rate limit', { rate_limit_per_second: 0 }],
      ['a fractional rate limit', { rate_limit_per_second: 1.5 }],
      ['an unknown field', { secret: 'whsec_mine' }],
    ])('refuses %s with 400 and creates nothing', async (_, change) => {
      const before = await db().count(WebhookEndpoint, {});
      const response = await sut.post('/v1/webhooks', {
        token: org.owner.token,
        body: { url: 'http://127.0.0.1:4000/hooks', events: ['api_key.created'], environment: 'test', ...change },
      });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(await db().count(WebhookEndpoint, {})).toBe(before);
    });

    it('replays a retry with the same Idempotency-Key and creates one endpoint', async () => {
      const before = await db().count(WebhookEndpoint, {});
      const key = `create-webhook-${Date.now()}`;
      const first = await sut.post('/v1/webhooks', {
        token: org.owner.token,
        headers: { 'idempotency-key': key },
        body: { url: 'http://127.0.0.1:4000/once', events: ['*'], environment: 'test' },
      });
      const again = await sut.post('/v1/webhooks', {
        token: org.owner.token,
        headers: { 'idempotency-key': key },
        body: { url: 'http://127.0.0.1:4000/once', events: ['*'], environment: 'test' },
      });
      secretsSeen.push(first.body.data.secret);
      expect([first.status, again.status]).toEqual([201, 201]);
      expect(again.body.data).toEqual(first.body.data);
      expect(await db().count(WebhookEndpoint, {})).toBe(before + 1);
    });

    it('names the unknown event type in the error', async () => {
      const response = await sut.post('/v1/webhooks', {
        token: org.owner.token,
        body: { url: 'http://127.0.0.1:4000/hooks', events: ['api_key.exploded'], environment: 'test' },
      });
      expect(JSON.stringify(response.body.error.details)).toContain('api_key.exploded');
    });
  });

  describe('reading endpoints', () => {
    let endpoint: Record<string, any>;

    beforeAll(async () => {
      endpoint = await createEndpoint(org.owner, { description: 'read me' });
    });

    it.each(ROLES)('GET /v1/webhooks/:id answers a %s the endpoint, without any secret', async (role) => {
      const response = await sut.get(`/v1/webhooks/${endpoint.id}`, { token: org[role].token });
      expect(response.status).toBe(200);
      const withoutSecret: Record<string, unknown> = { ...endpoint };
      delete withoutSecret.secret;
      expect(response.body.data).toEqual(withoutSecret);
      expect(response.text).not.toMatch(/whsec_|sealed|secret"/);
    });

    it.each(ROLES)('GET /v1/webhooks lists for a %s, newest first, a page at a time, filtered by environment', async (role) => {
      const first = await sut.get('/v1/webhooks', { token: org[role].token, query: { limit: '1' } });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ success: true, has_more: true, next_cursor: expect.stringMatching(/^whe_/) });
      const all: Record<string, any>[] = [];
      let cursor: string | null = null;
      do {
        const page: CallResult = await sut.get('/v1/webhooks', {
          token: org[role].token,
          query: { limit: '2', ...(cursor ? { cursor } : {}) },
        });
        all.push(...page.body.data);
        cursor = page.body.next_cursor;
      } while (cursor);
      const ids = all.map((item) => item.id);
      expect(ids).toEqual([...ids].sort().reverse());
      expect(ids).toContain(endpoint.id);
      expect(JSON.stringify(all)).not.toMatch(/whsec_|sealed|"secret"/);

      const live = await sut.get('/v1/webhooks', { token: org[role].token, query: { environment: 'live', limit: '100' } });
      expect(live.body.data.length).toBeGreaterThan(0);
      expect(live.body.data.every((item: { environment: string }) => item.environment === 'live')).toBe(true);
    });

    it('never lists or shows another organisation’s endpoints', async () => {
      const theirs = await createEndpoint(other.owner);
      const list = await sut.get('/v1/webhooks', { token: org.owner.token, query: { limit: '100' } });
      expect(list.body.data.map((item: { id: string }) => item.id)).not.toContain(theirs.id);
      for (const id of [theirs.id, 'whe_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', 'junk', 'key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I']) {
        const response = await sut.get(`/v1/webhooks/${id}`, { token: org.owner.token });
        expect(response.status).toBe(404);
        expect(response.body.error.code).toBe('NOT_FOUND');
      }
    });

    it('refuses a bad environment filter with 400', async () => {
      expect((await sut.get('/v1/webhooks', { token: org.owner.token, query: { environment: 'prod' } })).status).toBe(400);
    });

    it.each(ROLES)('GET /v1/webhooks/event-types gives a %s the catalogue', async (role) => {
      const response = await sut.get('/v1/webhooks/event-types', { token: org[role].token });
      expect(response.status).toBe(200);
      expect(response.body.data.map((item: { type: string }) => item.type)).toEqual(Object.values(EventType));
      for (const item of response.body.data as { description: string }[]) expect(item.description.length).toBeGreaterThan(10);
    });

    it('answers 401 without a session', async () => {
      expect((await sut.get('/v1/webhooks')).status).toBe(401);
      expect((await sut.get('/v1/webhooks/event-types')).status).toBe(401);
    });
  });

  describe('PATCH /v1/webhooks/:id', () => {
    it.each(MANAGERS)('lets an %s change url, events, description and rate limit, audited with before and after', async (role) => {
      const endpoint = await createEndpoint();
      const response = await sut.patch(`/v1/webhooks/${endpoint.id}`, {
        token: org[role].token,
        body: { url: 'http://localhost:5000/new', events: ['*'], description: 'new', rate_limit_per_second: 5 },
      });
      expect(response.status).toBe(200);
      expect(response.body.data).toMatchObject({
        id: endpoint.id,
        url: 'http://localhost:5000/new',
        events: ['*'],
        description: 'new',
        rate_limit_per_second: 5,
        environment: 'test',
      });
      const audit = await auditRows(org.owner.orgId, endpoint.id);
      expect(audit.map((entry) => entry.action)).toEqual(['webhook.created', 'webhook.updated']);
      expect(audit[1].before).toEqual({ url: endpoint.url, events: endpoint.events, description: null, rate_limit_per_second: null });
      expect(audit[1].after).toEqual({ url: 'http://localhost:5000/new', events: ['*'], description: 'new', rate_limit_per_second: 5 });

      const cleared = await sut.patch(`/v1/webhooks/${endpoint.id}`, {
        token: org[role].token,
        body: { description: null, rate_limit_per_second: null },
      });
      expect(cleared.body.data).toMatchObject({ description: null, rate_limit_per_second: null });
    });

    it('records nothing for an edit that changes nothing', async () => {
      const endpoint = await createEndpoint();
      const before = await row(endpoint.id);
      const response = await sut.patch(`/v1/webhooks/${endpoint.id}`, { token: org.owner.token, body: { events: endpoint.events } });
      expect(response.status).toBe(200);
      expect(await row(endpoint.id)).toEqual(before);
      expect((await auditRows(org.owner.orgId, endpoint.id)).map((entry) => entry.action)).toEqual(['webhook.created']);
    });

    it.each([
      ['an empty body', {}],
      ['the environment', { environment: 'live' }],
      ['an unknown event type', { events: ['nope'] }],
      ['empty events', { events: [] }],
      ['a bad url', { url: 'gopher://example.com' }],
      ['credentials in the url', { url: 'http://a:b@example.com' }],
    ])('refuses %s with 400 and changes nothing', async (_, body) => {
      const endpoint = await createEndpoint();
      const before = await row(endpoint.id);
      const response = await sut.patch(`/v1/webhooks/${endpoint.id}`, { token: org.owner.token, body });
      expect(response.status).toBe(400);
      expect(await row(endpoint.id)).toEqual(before);
    });
  });

  describe('changes refused to developers, viewers and other tenants', () => {
    const CHANGES: [string, (token: string, id: string) => Promise<CallResult>][] = [
      ['PATCH', (token, id) => sut.patch(`/v1/webhooks/${id}`, { token, body: { description: 'hijacked', url: 'http://localhost:1/x' } })],
      ['disable', (token, id) => sut.post(`/v1/webhooks/${id}/disable`, { token })],
      ['enable', (token, id) => sut.post(`/v1/webhooks/${id}/enable`, { token })],
      ['delete', (token, id) => sut.delete(`/v1/webhooks/${id}`, { token })],
      ['rotate-secret', (token, id) => sut.post(`/v1/webhooks/${id}/rotate-secret`, { token })],
      ['test', (token, id) => sut.post(`/v1/webhooks/${id}/test`, { token })],
      [
        'recover',
        (token, id) => sut.post(`/v1/webhooks/${id}/recover`, { token, query: { since: new Date(Date.now() - 86_400_000).toISOString() } }),
      ],
    ];

    it.each(CHANGES)('%s: 403 for developers and viewers, 404 for another organisation’s owner; nothing changes', async (_, act) => {
      const endpoint = await createEndpoint();
      const delivery = await seedDelivery(endpoint.id, org.owner.orgId);
      const before = await row(endpoint.id);
      const outboxBefore = await db().count(OutboxEvent, { orgId: org.owner.orgId });
      for (const session of [org.developer, org.viewer]) {
        const response = await act(session.token, endpoint.id);
        expect(response.status).toBe(403);
        expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
      }
      for (const session of [other.owner, other.admin]) {
        const response = await act(session.token, endpoint.id);
        expect(response.status).toBe(404);
      }
      expect(await row(endpoint.id)).toEqual(before);
      expect((await db().findOneOrFail(WebhookDelivery, { id: delivery.id })).status).toBe(DeliveryStatus.Failed);
      expect(await db().count(OutboxEvent, { orgId: org.owner.orgId })).toBe(outboxBefore);
      expect((await auditRows(org.owner.orgId, endpoint.id)).map((entry) => entry.action)).toEqual(['webhook.created']);
      expect(await queue.getJob(webhookDeliveryJobId(delivery.id, 3))).toBeUndefined();
    });
  });

  describe('disable, enable and delete', () => {
    it.each(MANAGERS)('lets an %s disable and enable; both are idempotent and audited once', async (role) => {
      const endpoint = await createEndpoint();
      const disabled = await sut.post(`/v1/webhooks/${endpoint.id}/disable`, { token: org[role].token });
      expect(disabled.status).toBe(200);
      expect(disabled.body.data).toMatchObject({ status: 'disabled', disabled_at: expect.stringMatching(ISO), disabled_reason: 'manual' });
      expect((await sut.post(`/v1/webhooks/${endpoint.id}/disable`, { token: org[role].token })).body.data).toEqual(disabled.body.data);

      const enabled = await sut.post(`/v1/webhooks/${endpoint.id}/enable`, { token: org[role].token });
      expect(enabled.status).toBe(200);
      expect(enabled.body.data).toMatchObject({ status: 'enabled', disabled_at: null, disabled_reason: null });
      expect((await sut.post(`/v1/webhooks/${endpoint.id}/enable`, { token: org[role].token })).status).toBe(200);
      expect((await auditRows(org.owner.orgId, endpoint.id)).map((entry) => entry.action)).toEqual([
        'webhook.created',
        'webhook.disabled',
        'webhook.enabled',
      ]);
    });

    it('enabling an endpoint the engine disabled for failing clears failing_since', async () => {
      const endpoint = await createEndpoint();
      const since = new Date(Date.now() - 5 * 86_400_000);
      await db().nativeUpdate(
        WebhookEndpoint,
        { id: endpoint.id },
        { disabledAt: new Date(), disabledReason: WebhookDisabledReason.Failing, failingSince: since },
      );
      const before = await sut.get(`/v1/webhooks/${endpoint.id}`, { token: org.viewer.token });
      expect(before.body.data).toMatchObject({ status: 'disabled', disabled_reason: 'failing', failing_since: since.toISOString() });
      const enabled = await sut.post(`/v1/webhooks/${endpoint.id}/enable`, { token: org.owner.token });
      expect(enabled.body.data).toMatchObject({ status: 'enabled', disabled_reason: null, failing_since: null });
      expect(await db().findOneOrFail(WebhookEndpoint, { id: endpoint.id })).toMatchObject({ failingSince: null, disabledAt: null });
    });

    it.each(MANAGERS)('lets an %s delete an endpoint with its delivery log', async (role) => {
      const endpoint = await createEndpoint();
      const delivery = await seedDelivery(endpoint.id, org.owner.orgId);
      const response = await sut.delete(`/v1/webhooks/${endpoint.id}`, { token: org[role].token });
      expect(response.status).toBe(200);
      expect(response.body.data.id).toBe(endpoint.id);
      expect((await sut.get(`/v1/webhooks/${endpoint.id}`, { token: org.owner.token })).status).toBe(404);
      expect(await db().findOne(WebhookDelivery, { id: delivery.id })).toBeNull();
      expect((await auditRows(org.owner.orgId, endpoint.id)).map((entry) => entry.action)).toEqual(['webhook.created', 'webhook.deleted']);
      expect((await sut.delete(`/v1/webhooks/${endpoint.id}`, { token: org[role].token })).status).toBe(404);
    });
  });

  describe('POST /v1/webhooks/:id/rotate-secret', () => {
    it.each(MANAGERS)('gives an %s a new secret once and keeps the old one sealed for 24 h', async (role) => {
      const endpoint = await createEndpoint();
      const storedBefore = await db().findOneOrFail(WebhookEndpoint, { id: endpoint.id });
      const started = Date.now();
      const response = await sut.post(`/v1/webhooks/${endpoint.id}/rotate-secret`, { token: org[role].token });
      expect(response.status).toBe(200);
      const data = response.body.data;
      secretsSeen.push(data.secret);
      expect(data.secret).toMatch(SECRET);
      expect(data.secret).not.toBe(endpoint.secret);
      const overlapEnds = Date.parse(data.previous_secret_expires_at);
      expect(overlapEnds).toBeGreaterThanOrEqual(started + 86_400_000 - 1000);
      expect(overlapEnds).toBeLessThanOrEqual(Date.now() + 86_400_000 + 1000);

      const stored = await db().findOneOrFail(WebhookEndpoint, { id: endpoint.id });
      expect(box().open(stored.secretSealed, endpoint.id)).toBe(data.secret);
      expect(stored.previousSecretSealed).toBe(storedBefore.secretSealed);
      expect(box().open(stored.previousSecretSealed!, endpoint.id)).toBe(endpoint.secret);
      expect(stored.previousSecretExpiresAt?.toISOString()).toBe(data.previous_secret_expires_at);

      const read = await sut.get(`/v1/webhooks/${endpoint.id}`, { token: org.viewer.token });
      expect(read.body.data.previous_secret_expires_at).toBe(data.previous_secret_expires_at);
      expect(read.text).not.toContain(data.secret);
      const audit = await auditRows(org.owner.orgId, endpoint.id);
      expect(audit.map((entry) => entry.action)).toEqual(['webhook.created', 'webhook.secret_rotated']);
      expect(audit[1].after).toEqual({ previous_valid_until: data.previous_secret_expires_at });
    });

    it('rotating again keeps only the secret it replaces as the previous one', async () => {
      const endpoint = await createEndpoint();
      const first = await sut.post(`/v1/webhooks/${endpoint.id}/rotate-secret`, { token: org.owner.token });
      const second = await sut.post(`/v1/webhooks/${endpoint.id}/rotate-secret`, { token: org.owner.token });
      secretsSeen.push(first.body.data.secret, second.body.data.secret);
      const stored = await db().findOneOrFail(WebhookEndpoint, { id: endpoint.id });
      expect(box().open(stored.secretSealed, endpoint.id)).toBe(second.body.data.secret);
      expect(box().open(stored.previousSecretSealed!, endpoint.id)).toBe(first.body.data.secret);
    });
  });

  describe('POST /v1/webhooks/:id/test', () => {
    it.each(MANAGERS)('lets an %s write a webhook.test event for that endpoint through the outbox', async (role) => {
      const endpoint = await createEndpoint(org.owner, { environment: 'live', events: ['member.added'] });
      const response = await sut.post(`/v1/webhooks/${endpoint.id}/test`, { token: org[role].token });
      expect(response.status).toBe(202);
      expect(response.body.data).toEqual({ event_id: expect.stringMatching(/^evt_/), type: 'webhook.test', endpoint_id: endpoint.id });
      const event = await db().findOneOrFail(OutboxEvent, { id: response.body.data.event_id });
      expect(outboxEventErrors(event)).toEqual([]);
      expect(event).toMatchObject({
        orgId: org.owner.orgId,
        environment: 'live',
        type: 'webhook.test',
        data: { endpoint_id: endpoint.id },
      });
    });

    it('refuses a disabled endpoint with 409 and writes nothing', async () => {
      const endpoint = await createEndpoint();
      await sut.post(`/v1/webhooks/${endpoint.id}/disable`, { token: org.owner.token });
      const before = await db().count(OutboxEvent, { type: EventType.WebhookTest });
      const response = await sut.post(`/v1/webhooks/${endpoint.id}/test`, { token: org.owner.token });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('WEBHOOK_ENDPOINT_DISABLED');
      expect(await db().count(OutboxEvent, { type: EventType.WebhookTest })).toBe(before);
    });
  });

  describe('GET /v1/webhooks/:id/deliveries', () => {
    let endpoint: Record<string, any>;
    let failed: WebhookDelivery;
    let succeeded: WebhookDelivery;
    let memberEvent: WebhookDelivery;

    beforeAll(async () => {
      endpoint = await createEndpoint();
      failed = await seedDelivery(endpoint.id, org.owner.orgId, { status: DeliveryStatus.Failed, attempts: 3 });
      succeeded = await seedDelivery(endpoint.id, org.owner.orgId, { status: DeliveryStatus.Succeeded, attempts: 1 });
      memberEvent = await seedDelivery(endpoint.id, org.owner.orgId, {
        status: DeliveryStatus.Pending,
        eventType: 'member.added',
        attempts: 0,
      });
      // Another endpoint's delivery never shows here.
      await seedDelivery((await createEndpoint()).id, org.owner.orgId);
    });

    it.each(ROLES)('answers a %s each delivery with its attempts, newest first', async (role) => {
      const response = await sut.get(`/v1/webhooks/${endpoint.id}/deliveries`, { token: org[role].token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ success: true, has_more: false, next_cursor: null });
      expect(response.body.data.map((item: { id: string }) => item.id)).toEqual([memberEvent.id, succeeded.id, failed.id]);
      expect(response.body.data[2]).toEqual({
        id: failed.id,
        event_id: failed.eventId,
        event_type: 'api_key.created',
        endpoint_id: endpoint.id,
        status: 'failed',
        attempt_count: 3,
        next_attempt_at: null,
        created_at: expect.stringMatching(ISO),
        attempts: [
          {
            attempted_at: expect.stringMatching(ISO),
            status_code: null,
            duration_ms: 12,
            response_body: null,
            error: 'connect ECONNREFUSED',
          },
          { attempted_at: expect.stringMatching(ISO), status_code: 500, duration_ms: 13, response_body: 'oops', error: null },
          { attempted_at: expect.stringMatching(ISO), status_code: 500, duration_ms: 14, response_body: 'oops', error: null },
        ],
      });
      expect(response.body.data[0].attempts).toEqual([]);
    });

    it('filters by status and event type, and pages with a cursor', async () => {
      const byStatus = await sut.get(`/v1/webhooks/${endpoint.id}/deliveries`, { token: org.viewer.token, query: { status: 'succeeded' } });
      expect(byStatus.body.data.map((item: { id: string }) => item.id)).toEqual([succeeded.id]);
      const byType = await sut.get(`/v1/webhooks/${endpoint.id}/deliveries`, {
        token: org.viewer.token,
        query: { event_type: 'member.added' },
      });
      expect(byType.body.data.map((item: { id: string }) => item.id)).toEqual([memberEvent.id]);
      const first = await sut.get(`/v1/webhooks/${endpoint.id}/deliveries`, { token: org.viewer.token, query: { limit: '2' } });
      expect(first.body).toMatchObject({ has_more: true, next_cursor: succeeded.id });
      const second = await sut.get(`/v1/webhooks/${endpoint.id}/deliveries`, {
        token: org.viewer.token,
        query: { limit: '2', cursor: first.body.next_cursor },
      });
      expect(second.body.data.map((item: { id: string }) => item.id)).toEqual([failed.id]);
      expect(second.body.has_more).toBe(false);
    });

    it.each([
      ['an unknown status', { status: 'lost' }],
      ['an unknown event type', { event_type: 'nope' }],
      ['a limit over 100', { limit: '101' }],
      ['a foreign cursor', { cursor: 'junk' }],
    ])('refuses %s with 400', async (_, query) => {
      expect((await sut.get(`/v1/webhooks/${endpoint.id}/deliveries`, { token: org.owner.token, query })).status).toBe(400);
    });

    it('answers 404 for another organisation’s endpoint', async () => {
      for (const session of [other.owner, other.viewer]) {
        expect((await sut.get(`/v1/webhooks/${endpoint.id}/deliveries`, { token: session.token })).status).toBe(404);
      }
      expect((await sut.get('/v1/webhooks/junk/deliveries', { token: org.owner.token })).status).toBe(404);
    });
  });

  describe('POST /v1/webhook-deliveries/:id/retry', () => {
    it.each(MANAGERS)('lets an %s send a failed delivery again: pending now, next attempt queued once', async (role) => {
      const endpoint = await createEndpoint();
      const delivery = await seedDelivery(endpoint.id, org.owner.orgId, { status: DeliveryStatus.Failed, attempts: 3 });
      const started = Date.now();
      const response = await sut.post(`/v1/webhook-deliveries/${delivery.id}/retry`, { token: org[role].token });
      expect(response.status).toBe(202);
      expect(response.body.data).toMatchObject({ id: delivery.id, status: 'pending', attempt_count: 3, event_id: delivery.eventId });
      expect(response.body.data.attempts).toHaveLength(3);
      const stored = await db().findOneOrFail(WebhookDelivery, { id: delivery.id });
      expect(stored.status).toBe(DeliveryStatus.Pending);
      expect(stored.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(started - 1000);

      const job = await queue.getJob(webhookDeliveryJobId(delivery.id, 4));
      expect(job).toBeDefined();
      expect(job!.name).toBe(WEBHOOK_DELIVERY_JOB);
      expect(job!.data).toEqual({ delivery_id: delivery.id });

      // A second click before the worker took the first: still the one job.
      expect((await sut.post(`/v1/webhook-deliveries/${delivery.id}/retry`, { token: org[role].token })).status).toBe(202);
      expect(await queue.getJob(webhookDeliveryJobId(delivery.id, 5))).toBeUndefined();
      const audit = await auditRows(org.owner.orgId, delivery.id);
      expect(audit[0]).toMatchObject({ action: 'webhook.delivery_retried', before: { status: 'failed', next_attempt_at: null } });
    });

    it('retries a succeeded delivery too', async () => {
      const endpoint = await createEndpoint();
      const delivery = await seedDelivery(endpoint.id, org.owner.orgId, { status: DeliveryStatus.Succeeded, attempts: 1 });
      expect((await sut.post(`/v1/webhook-deliveries/${delivery.id}/retry`, { token: org.owner.token })).status).toBe(202);
      expect(await queue.getJob(webhookDeliveryJobId(delivery.id, 2))).toBeDefined();
    });

    it('refuses developers and viewers (403), other tenants and junk ids (404), and disabled endpoints (409); nothing changes', async () => {
      const endpoint = await createEndpoint();
      const delivery = await seedDelivery(endpoint.id, org.owner.orgId, { status: DeliveryStatus.Failed, attempts: 2 });
      for (const session of [org.developer, org.viewer]) {
        expect((await sut.post(`/v1/webhook-deliveries/${delivery.id}/retry`, { token: session.token })).status).toBe(403);
      }
      for (const session of [other.owner, other.admin]) {
        expect((await sut.post(`/v1/webhook-deliveries/${delivery.id}/retry`, { token: session.token })).status).toBe(404);
      }
      for (const id of ['junk', 'del_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', endpoint.id]) {
        expect((await sut.post(`/v1/webhook-deliveries/${id}/retry`, { token: org.owner.token })).status).toBe(404);
      }
      await sut.post(`/v1/webhooks/${endpoint.id}/disable`, { token: org.owner.token });
      const disabled = await sut.post(`/v1/webhook-deliveries/${delivery.id}/retry`, { token: org.owner.token });
      expect(disabled.status).toBe(409);
      expect(await db().findOneOrFail(WebhookDelivery, { id: delivery.id })).toMatchObject({
        status: DeliveryStatus.Failed,
        nextAttemptAt: null,
      });
      expect(await queue.getJob(webhookDeliveryJobId(delivery.id, 3))).toBeUndefined();
    });
  });

  describe('POST /v1/webhooks/:id/recover', () => {
    it.each(MANAGERS)('lets an %s re-schedule every failed delivery since a time, and answers how many', async (role) => {
      const endpoint = await createEndpoint();
      const old = await seedDelivery(endpoint.id, org.owner.orgId, { createdAt: new Date(Date.now() - 3 * 86_400_000) });
      const recent = [
        await seedDelivery(endpoint.id, org.owner.orgId, { attempts: 9 }),
        await seedDelivery(endpoint.id, org.owner.orgId, { attempts: 1 }),
      ];
      const done = await seedDelivery(endpoint.id, org.owner.orgId, { status: DeliveryStatus.Succeeded, attempts: 1 });
      const neighbour = await seedDelivery((await createEndpoint()).id, org.owner.orgId);
      const since = new Date(Date.now() - 86_400_000).toISOString();

      const response = await sut.post(`/v1/webhooks/${endpoint.id}/recover`, { token: org[role].token, query: { since } });
      expect(response.status).toBe(202);
      expect(response.body.data).toEqual({ recovered: 2, since });
      for (const delivery of recent) {
        const stored = await db().findOneOrFail(WebhookDelivery, { id: delivery.id });
        expect(stored.status).toBe(DeliveryStatus.Pending);
        expect(stored.nextAttemptAt).not.toBeNull();
        expect((await queue.getJob(webhookDeliveryJobId(delivery.id, delivery.attemptCount + 1)))?.data).toEqual({
          delivery_id: delivery.id,
        });
      }
      for (const untouched of [old, done, neighbour]) {
        expect((await db().findOneOrFail(WebhookDelivery, { id: untouched.id })).status).toBe(untouched.status);
        expect(await queue.getJob(webhookDeliveryJobId(untouched.id, untouched.attemptCount + 1))).toBeUndefined();
      }
      const audit = await auditRows(org.owner.orgId, endpoint.id);
      expect(audit.at(-1)).toMatchObject({ action: 'webhook.deliveries_recovered', after: { since, recovered: 2 } });

      const again = await sut.post(`/v1/webhooks/${endpoint.id}/recover`, { token: org[role].token, query: { since } });
      expect(again.body.data.recovered).toBe(0);
    });

    it.each([
      ['no since', {}],
      ['a since that is no date', { since: 'yesterday' }],
      ['a since in the future', { since: new Date(Date.now() + 86_400_000).toISOString() }],
    ])('refuses %s with 400', async (_, query) => {
      const endpoint = await createEndpoint();
      expect((await sut.post(`/v1/webhooks/${endpoint.id}/recover`, { token: org.owner.token, query })).status).toBe(400);
    });

    it('refuses a since more than 14 days ago with 400, and re-sends nothing', async () => {
      const endpoint = await createEndpoint();
      const old = await seedDelivery(endpoint.id, org.owner.orgId, { createdAt: new Date(Date.now() - 15 * 86_400_000) });
      const recent = await seedDelivery(endpoint.id, org.owner.orgId, { createdAt: new Date(Date.now() - 86_400_000) });

      const tooOld = new Date(Date.now() - 15 * 86_400_000).toISOString();
      const response = await sut.post(`/v1/webhooks/${endpoint.id}/recover`, { token: org.owner.token, query: { since: tooOld } });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: 'since may be at most 14 days ago; nothing was re-sent.',
        details: [{ field: 'since', message: expect.stringMatching(/^since must be \d{4}-\d{2}-\d{2}T.* or later$/) }],
      });
      for (const delivery of [old, recent]) {
        expect((await db().findOneOrFail(WebhookDelivery, { id: delivery.id })).status).toBe(DeliveryStatus.Failed);
        expect(await queue.getJob(webhookDeliveryJobId(delivery.id, delivery.attemptCount + 1))).toBeUndefined();
      }
      expect((await auditRows(org.owner.orgId, endpoint.id)).map((entry) => entry.action)).toEqual(['webhook.created']);

      // Just inside the window: the recent one comes back; the 15-day-old one was created before since.
      const inside = new Date(Date.now() - 13 * 86_400_000).toISOString();
      const accepted = await sut.post(`/v1/webhooks/${endpoint.id}/recover`, { token: org.owner.token, query: { since: inside } });
      expect(accepted.status).toBe(202);
      expect(accepted.body.data.recovered).toBe(1);
      expect((await db().findOneOrFail(WebhookDelivery, { id: old.id })).status).toBe(DeliveryStatus.Failed);
    });
  });

  describe('events org-api writes to the outbox', () => {
    const eventsOf = (orgId: string, type: string) => db().find(OutboxEvent, { orgId, type }, { orderBy: { id: 'asc' } });

    it('member.added, member.role_changed and member.removed, with the member and never a secret', async () => {
      const team = await orgWithEveryRole(sut);
      const added = await eventsOf(team.owner.orgId, EventType.MemberAdded);
      expect(added.map((event) => event.data.user_id)).toEqual([team.admin.userId, team.developer.userId, team.viewer.userId]);
      expect(added[0]).toMatchObject({
        environment: null,
        data: { id: expect.stringMatching(/^mem_/), user_id: team.admin.userId, email: team.admin.email, role: 'admin' },
      });

      const memberId = added[2].data.id as string;
      expect((await sut.patch(`/v1/members/${memberId}`, { token: team.owner.token, body: { role: 'developer' } })).status).toBe(200);
      const changed = await eventsOf(team.owner.orgId, EventType.MemberRoleChanged);
      expect(changed).toHaveLength(1);
      expect(changed[0].data).toMatchObject({ id: memberId, role: 'developer', previous_role: 'viewer' });

      expect((await sut.delete(`/v1/members/${memberId}`, { token: team.owner.token })).status).toBe(200);
      const removed = await eventsOf(team.owner.orgId, EventType.MemberRemoved);
      expect(removed).toHaveLength(1);
      expect(removed[0].data).toMatchObject({ id: memberId, user_id: team.viewer.userId, role: 'developer' });
      expect(JSON.stringify([added, changed, removed])).not.toMatch(/password|token|hash|secret/i);
    });

    it('a refused member change writes no event', async () => {
      const team = await orgWithEveryRole(sut);
      const ownerMember = (await eventsOf(team.owner.orgId, EventType.MemberAdded))[0].data.id as string;
      const before = await db().count(OutboxEvent, { orgId: team.owner.orgId });
      expect((await sut.patch(`/v1/members/${ownerMember}`, { token: team.developer.token, body: { role: 'viewer' } })).status).toBe(403);
      expect(await db().count(OutboxEvent, { orgId: team.owner.orgId })).toBe(before);
    });

    it('org.live_access_approved once the platform operator approves', async () => {
      const team = await orgWithEveryRole(sut);
      expect((await sut.post('/v1/orgs/current/live-access', { token: team.owner.token })).status).toBeLessThan(300);
      expect(await eventsOf(team.owner.orgId, EventType.OrgLiveAccessApproved)).toHaveLength(0);
      const approve = () =>
        sut.post(`/v1/platform/orgs/${team.owner.orgId}/approve-live`, {
          headers: { authorization: `Bearer ${sut.config.PLATFORM_ADMIN_TOKEN}` },
        });
      expect((await approve()).status).toBe(200);
      expect((await approve()).status).toBe(200);
      const approved = await eventsOf(team.owner.orgId, EventType.OrgLiveAccessApproved);
      expect(approved).toHaveLength(1);
      expect(approved[0].data).toEqual({ org_id: team.owner.orgId, live_access: 'approved', approved_at: expect.stringMatching(ISO) });
    });
  });

  // Last: it looks at everything the file did.
  describe('secrets are shown once and never again', () => {
    it('appear in no audit row, outbox event, stored endpoint column or log line', async () => {
      expect(secretsSeen.length).toBeGreaterThan(10);
      const audit = JSON.stringify(await db().find(AuditLog, {}));
      const outbox = JSON.stringify(await db().find(OutboxEvent, {}));
      const endpoints = JSON.stringify(
        (await db().find(WebhookEndpoint, {})).map((endpoint) => ({
          ...endpoint,
          a: endpoint.secretSealed,
          b: endpoint.previousSecretSealed,
        })),
      );
      expect(logs.lines.length).toBeGreaterThan(0);
      for (const text of [audit, outbox, endpoints, logs.text]) {
        expect(text).not.toContain('whsec_');
        for (const secret of secretsSeen) expect(text).not.toContain(secret.slice('whsec_'.length));
      }
    });
  });
});
