import { LatchkeyUnavailableError } from '../../../packages/sdk/src/core/errors';
import { createVerifier } from '../../../packages/sdk/src/verifier/create-verifier';
import type { Verifier } from '../../../packages/sdk/src/verifier/verifier';
import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';
import { issueKey } from '../auth-check/auth-check-helpers';

const INTERNAL_TOKEN = 'i'.repeat(32);

describe('the SDK verifier outage cache against a real Latchkey', () => {
  let latchkey: TestApp | undefined;
  let verifier: Verifier | undefined;

  afterAll(async () => {
    await verifier?.close();
    await latchkey?.close();
  });

  it('answers a pass remembered while Latchkey was up once it is stopped, and 503s any other key', async () => {
    const app = (latchkey = await TestApp.start({ config: { INTERNAL_TOKEN } }));
    const owner = await signUp(app);
    const good = await issueKey(app, owner, { permissions: ['orders:read'] });
    const other = await issueKey(app, owner, { permissions: ['orders:read'] });
    verifier = createVerifier({ baseUrl: app.baseUrl, internalToken: INTERNAL_TOKEN, outageCache: { ttlMs: 60_000, maxEntries: 10 } });
    const call = { permissions: ['orders:read'], method: 'GET', path: '/orders' };

    const fresh = await verifier.verify({ key: good.secret, ...call });
    expect(fresh).toMatchObject({ valid: true, key_id: good.id });
    expect(fresh).not.toHaveProperty('from_cache');

    latchkey = undefined;
    await app.close();

    expect(await verifier.verify({ key: good.secret, ...call })).toMatchObject({
      valid: true,
      key_id: good.id,
      degraded: true,
      from_cache: true,
    });
    const refused = verifier.verify({ key: other.secret, ...call });
    await expect(refused).rejects.toBeInstanceOf(LatchkeyUnavailableError);
    await expect(refused).rejects.toMatchObject({ status: 503 });
  });
});
