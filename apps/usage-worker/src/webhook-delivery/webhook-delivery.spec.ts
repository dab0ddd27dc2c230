import type { LookupAddress } from 'node:dns';

import { Webhook } from 'standardwebhooks';

import { webhookDeliveryAttemptOf, webhookDeliveryJobId } from '@latchkey/contracts';
import { webhookSignature } from '@latchkey/crypto';

import { parseRetryAfter, postWebhook } from './webhook-sender';
import { createGuardedLookup, isPublicAddress, NOT_PUBLIC_TARGET, RefusedTargetError } from './webhook-target';

describe('webhook delivery helpers', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  it('signs exactly as the Standard Webhooks reference library does', () => {
    const body = '{"id":"evt_1","type":"webhook.test"}';
    const at = new Date('2026-11-23T12:00:00Z');
    expect(webhookSignature('evt_1', at.getTime() / 1000, body, [secret])).toBe(new Webhook(secret).sign('evt_1', at, body));
  });

  it('joins one signature per secret with spaces', () => {
    const other = 'whsec_' + Buffer.from('another key').toString('base64');
    expect(webhookSignature('evt_1', 1, '{}', [secret, other]).split(' ')).toHaveLength(2);
  });

  it.each([
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['fe80::1', false],
    ['fd00:ec2::254', false],
    ['::ffff:127.0.0.1', false],
    // IPv4-compatible (::/96), however it is written, and whatever IPv4 address it carries.
    ['::127.0.0.1', false],
    ['::7f00:1', false],
    ['::a00:1', false],
    ['::8.8.8.8', false],
    ['not an address', false],
    ['93.184.216.34', true],
    ['2606:4700::1111', true],
    ['::ffff:93.184.216.34', true],
  ])('judges %s public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it.each(['::127.0.0.1', '::a00:1', '10.0.0.1'])(
    'refuses a connection when the name now resolves to %s (the DNS-rebinding guard uses the same filter), naming no address',
    async (address) => {
      const resolve = (_: string, __: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) =>
        callback(null, [
          { address: '93.184.216.34', family: 4 },
          { address, family: address.includes(':') ? 6 : 4 },
        ]);
      const lookup = createGuardedLookup(resolve);
      const error = await new Promise<NodeJS.ErrnoException | null>((done) => lookup('hooks.example.test', {}, (failure) => done(failure)));
      expect(error).toBeInstanceOf(RefusedTargetError);
      expect(error?.message).toBe(NOT_PUBLIC_TARGET);
      expect(error?.message).not.toContain(address);
    },
  );

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it('names each attempt in a job id BullMQ accepts, and reads the attempt back', () => {
    const id = webhookDeliveryJobId('del_01M84JHQXVCW3TXP9JT8BRXN5J', 3);
    expect(id).not.toContain(':');
    expect(webhookDeliveryAttemptOf(id)).toBe(3);
    expect(webhookDeliveryAttemptOf('del_01M84JHQXVCW3TXP9JT8BRXN5J')).toBeNull();
    expect(webhookDeliveryAttemptOf(undefined)).toBeNull();
  });

  describe('https-only targets in production (checked again at send time)', () => {
    const headers = { 'content-type': 'application/json' };

    it('refuses an http target before connecting, with an error for the attempt log', async () => {
      // 192.0.2.1 (TEST-NET-1) is never reachable: a connection attempt would time out, not answer at once.
      const result = await postWebhook('http://192.0.2.1/hooks', headers, '{}', {
        timeoutMs: 5_000,
        allowPrivateTargets: true,
        requireHttps: true,
      });
      expect(result).toEqual({
        statusCode: null,
        durationMs: expect.any(Number),
        responseBody: null,
        error: 'refused: webhook targets must use https in production',
        retryAfterMs: null,
      });
      expect(result.durationMs).toBeLessThan(100);
    });

    it('refuses an http target in production even when private targets are allowed', async () => {
      const result = await postWebhook('http://127.0.0.1:9/hooks', headers, '{}', {
        timeoutMs: 1_000,
        allowPrivateTargets: true,
        requireHttps: true,
      });
      expect(result.error).toMatch(/must use https/);
    });

    it('lets an http target through outside production', async () => {
      const result = await postWebhook('http://127.0.0.1:9/hooks', headers, '{}', { timeoutMs: 1_000, allowPrivateTargets: true });
      expect(result.error).not.toMatch(/https/);
      expect(result.statusCode).toBeNull(); // nothing listens on the discard port: a connection error, not a refusal
    });
  });
});
