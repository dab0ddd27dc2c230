import { generateApiKey } from '@latchkey/crypto';

import { LatchkeyUnavailableError } from '../core/errors';
import { signRequest } from '../signing';
import { Verdict, VerifyRequestBody } from './verdict';
import { Verifier, verifyBody, VerifyTransport } from './verifier';

/** A transport that records what it was sent and answers as told. */
function transport(answer: () => Promise<Verdict>) {
  const sent: VerifyRequestBody[] = [];
  const fake: VerifyTransport = {
    send: (body) => {
      sent.push(body);
      return answer();
    },
    close: () => Promise.resolve(),
  };
  return { fake, sent };
}

const unavailable = () => new LatchkeyUnavailableError({ code: 'CONNECTION_FAILED', reason: 'connection', message: 'down' });

describe(Verifier.name, () => {
  it('refuses a malformed key offline, with the verdict Latchkey gives for one', async () => {
    const { fake, sent } = transport(() => Promise.reject(new Error('must not be sent')));
    const sut = new Verifier(fake, 100);
    const good = generateApiKey('test');
    const typo = good.slice(0, -1) + (good.endsWith('a') ? 'b' : 'a');
    for (const key of ['', 'sk_test_short', typo, `${good}x`]) {
      expect(await sut.verify({ key })).toEqual({ valid: false, code: 'MALFORMED' });
    }
    expect(sent).toEqual([]);
  });

  it('sends a well-formed key once and answers its verdict, refusals included', async () => {
    const { fake, sent } = transport(() => Promise.resolve({ valid: false, code: 'REVOKED' }));
    const sut = new Verifier(fake, 100);
    const key = generateApiKey('live');
    expect(await sut.verify({ key, permissions: ['a'], cost: 2, timeoutMs: 5 })).toEqual({ valid: false, code: 'REVOKED' });
    expect(sent).toEqual([{ key, permissions: ['a'], cost: 2 }]);
  });

  it('throws LatchkeyUnavailableError without retrying, and fails open only when asked', async () => {
    const { fake, sent } = transport(() => Promise.reject(unavailable()));
    const sut = new Verifier(fake, 100);
    const key = generateApiKey('live');
    await expect(sut.verify({ key })).rejects.toBeInstanceOf(LatchkeyUnavailableError);
    expect(sent).toHaveLength(1);
    expect(await sut.verify({ key, failOpen: true })).toMatchObject({ valid: true, code: 'VALID', failed_open: true, degraded: true });
  });

  it('does not fail open on other errors', async () => {
    const { fake } = transport(() => Promise.reject(new Error('a bug')));
    await expect(new Verifier(fake, 100).verify({ key: generateApiKey('live'), failOpen: true })).rejects.toThrow('a bug');
  });
});

describe(verifyBody.name, () => {
  it('turns an x-signature header and the raw body into the signature object', () => {
    const headers = signRequest({ secret: 'sec', method: 'POST', path: '/orders', body: '{"a":1}', timestamp: 1_700_000_000 });
    const body = verifyBody({ key: 'pk', signatureHeader: headers['x-signature'], body: '{"a":1}', method: 'POST', path: '/orders' });
    expect(body.signature).toEqual({
      timestamp: 1_700_000_000,
      value: headers['x-signature'].split('v1=')[1],
      body_sha256: headers['x-content-sha256'],
    });
    expect(body).not.toHaveProperty('signatureHeader');
    expect(body).not.toHaveProperty('body');
  });
});
