import { randomBytes } from 'node:crypto';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';

import { INestApplication } from '@nestjs/common';

import { webhookHeaders } from '@latchkey/crypto';
import type { WebhookEvent } from '@latchkey/sdk';

import { createApp } from '../../../examples/nest-service/src/app';
import { createReceiver } from '../../../examples/webhook-receiver/src/receiver';
import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { issueKey } from '../auth-check/auth-check-helpers';

const INTERNAL_TOKEN = 'i'.repeat(32);

/** examples/ as a reader runs them: from source, importing @latchkey/sdk by its name, against a real Latchkey. */
describe('the examples', () => {
  let latchkey: TestApp;
  let owner: UserSession;

  beforeAll(async () => {
    latchkey = await TestApp.start({ config: { INTERNAL_TOKEN } });
    owner = await signUp(latchkey);
  });

  afterAll(async () => {
    await latchkey.close();
  });

  describe('nest-service', () => {
    let service: INestApplication;
    let url: string;

    beforeAll(async () => {
      service = await createApp({ baseUrl: latchkey.baseUrl, internalToken: INTERNAL_TOKEN });
      await service.listen(0, '127.0.0.1');
      url = await service.getUrl();
    });

    afterAll(async () => {
      await service.close();
    });

    it('answers 200 to a key with orders:read, 401 without one, 403 to a key that may not', async () => {
      const key = await issueKey(latchkey, owner, { permissions: ['orders:read'] });
      const passed = await fetch(`${url}/orders`, { headers: { 'x-api-key': key.secret } });
      expect(passed.status).toBe(200);
      expect(await passed.json()).toEqual({ org_id: owner.orgId, key_id: key.id, orders: [] });

      const without = await fetch(`${url}/orders`);
      expect(without.status).toBe(401);
      expect(without.headers.get('www-authenticate')).toContain('realm="latchkey"');

      const write = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'x-api-key': key.secret, 'content-type': 'application/json' },
        body: '{"sku":"a"}',
      });
      expect(write.status).toBe(403);
      expect(await write.json()).toMatchObject({ error: { code: 'INSUFFICIENT_PERMISSIONS' } });

      expect((await fetch(`${url}/orders/health`)).status).toBe(200);
    });
  });

  describe('webhook-receiver', () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const received: WebhookEvent[] = [];
    let receiver: Server;
    let url: string;

    beforeAll(async () => {
      receiver = createReceiver({ secrets: [secret], onEvent: (event) => void received.push(event) });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/latchkey`;
    });

    afterAll(async () => {
      await new Promise((resolve) => receiver.close(resolve));
    });

    it('takes a signed delivery once, and refuses a tampered or unsigned one', async () => {
      const event = {
        id: 'evt_example1',
        type: 'api_key.created',
        created_at: new Date().toISOString(),
        org_id: owner.orgId,
        environment: 'test',
        data: { key_id: 'key_1' },
      };
      const payload = JSON.stringify(event);
      const headers = webhookHeaders(event.id, payload, [secret]);

      expect((await fetch(url, { method: 'POST', headers, body: payload })).status).toBe(204);
      expect((await fetch(url, { method: 'POST', headers, body: payload })).status).toBe(204);
      expect(received).toEqual([event]);

      const tampered = await fetch(url, { method: 'POST', headers, body: payload.replace('key_1', 'key_2') });
      expect(tampered.status).toBe(400);
      expect(await tampered.json()).toEqual({ error: 'no_matching_signature' });

      const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
      expect(unsigned.status).toBe(400);
      expect(await unsigned.json()).toEqual({ error: 'missing_headers' });
      expect(received).toHaveLength(1);
    });
  });
});
