import { OrgsPattern } from '@latchkey/contracts';
import { hmacSha256Hex } from '@latchkey/crypto';
import { DEFAULT_ORGANIZATION_SETTINGS } from '@latchkey/db';
import { RedisService, RpcClient } from '@latchkey/platform';

import { webhookEventErrors } from '../../../../test/support/event-samples';
import { SeededMember, seedOrg } from '../../../../test/support/org-seeds';
import { ServiceHarness } from '../../../../test/support/service-harness';
import { KeyChangePublisher } from '../key-changes/key-change.publisher';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';

/**
 * What ApiKeysService stores: secrets only as hashes or sealed, the previous secret kept
 * through a roll's grace period, one audit row and one outbox event per change. What a
 * client sees of the same calls is api-keys.e2e-spec.ts.
 */
describe(ApiKeysService.name, () => {
  let harness: ServiceHarness;
  let keys: ApiKeysService;
  let team: SeededMember;

  /** org-api as the service asks it over RPC: every organisation with the default settings. */
  const orgApi = {
    send: async (pattern: string, payload: { org_id: string }) => {
      if (pattern !== OrgsPattern.GetOrganization) throw new Error(`unexpected RPC ${pattern}`);
      return { id: payload.org_id, live_access: 'not_requested', settings: { ...DEFAULT_ORGANIZATION_SETTINGS } };
    },
  };

  beforeAll(async () => {
    harness = await ServiceHarness.start({
      providers: [ApiKeysService, KeyChangePublisher, RedisService, { provide: RpcClient, useValue: orgApi }],
    });
    keys = harness.get(ApiKeysService);
    team = await seedOrg(harness.em());
  });

  afterAll(async () => {
    await harness?.close();
  });

  const create = (body: Partial<CreateApiKeyDto> = {}) =>
    harness.inRequest(() => keys.create(team.principal, { name: 'k', environment: 'test', ...body }, team.actor));
  const row = async (id: string) => (await harness.sql<any>('select * from api_keys where id = ?', [id]))[0];

  it('stores the secret only as its HMAC under KEY_HASH_SECRET', async () => {
    const key = await create();
    const stored = await row(key.id);
    expect(stored.secret_hash).toBe(hmacSha256Hex(harness.config.KEY_HASH_SECRET, key.secret));
    expect(stored.last4).toBe(key.secret.slice(-4));
  });

  it("seals a signing key's secret", async () => {
    const key = await create({ signing: true });
    const stored = await row(key.id);
    expect(stored.signing_secret_sealed).toMatch(/^v1\./);
    expect(stored.signing_secret_sealed).not.toContain(key.secret);
  });

  it('rolls with a grace period for the old secret', async () => {
    const key = await create({ signing: true });
    const roll = (seconds: number | undefined) => harness.inRequest(() => keys.roll(team.principal, key.id, seconds, team.actor));
    const before = await row(key.id);

    const rolled = await roll(3600);
    const after = await row(key.id);
    expect(after.secret_hash).toBe(hmacSha256Hex(harness.config.KEY_HASH_SECRET, rolled.secret));
    expect(after.previous_secret_hash).toBe(before.secret_hash);
    expect(Math.abs(new Date(after.previous_secret_expires_at).getTime() - Date.now() - 3_600_000)).toBeLessThan(60_000);
    expect(after.previous_signing_secret_sealed).toBe(before.signing_secret_sealed);
    expect(after.signing_secret_sealed).not.toBe(before.signing_secret_sealed);
    // The rotation policy starts over with the new secret; the key keeps its creation time.
    expect(new Date(after.secret_rotated_at).getTime()).toBeGreaterThan(new Date(before.secret_rotated_at).getTime());
    expect(rolled.secret_rotated_at).toBe(new Date(after.secret_rotated_at).toISOString());
    expect(rolled.created_at).toBe(key.created_at);

    await roll(undefined);
    const third = await row(key.id);
    expect(third.previous_secret_hash).toBe(after.secret_hash);
    expect(Math.abs(new Date(third.previous_secret_expires_at).getTime() - Date.now() - 86_400_000)).toBeLessThan(60_000);

    await roll(0);
    expect(await row(key.id)).toMatchObject({
      previous_secret_hash: null,
      previous_secret_expires_at: null,
      previous_signing_secret_sealed: null,
    });
  });

  it('writes one audit row and one outbox event per change, never a secret', async () => {
    const key = await create({ signing: true });
    const call = <T>(work: () => Promise<T>) => harness.inRequest(work);
    await call(() => keys.update(team.principal, key.id, { name: 'edited' }, team.actor));
    await call(() => keys.update(team.principal, key.id, { name: 'edited' }, team.actor)); // no change
    await call(() => keys.disable(team.principal, key.id, team.actor));
    await call(() => keys.enable(team.principal, key.id, team.actor));
    const rolled = await call(() => keys.roll(team.principal, key.id, undefined, team.actor));
    await call(() => keys.revoke(team.principal, key.id, team.actor));
    await call(() => keys.delete(team.principal, key.id, team.actor));

    const audit = await harness.sql<any>('select action, actor_id, org_id, before, after from audit_logs where target_id = ? order by id', [
      key.id,
    ]);
    expect(audit.map((entry) => entry.action)).toEqual([
      'api_key.created',
      'api_key.updated',
      'api_key.disabled',
      'api_key.enabled',
      'api_key.rolled',
      'api_key.revoked',
      'api_key.deleted',
    ]);
    expect(audit.every((entry) => entry.actor_id === team.userId && entry.org_id === team.orgId)).toBe(true);
    expect(audit[1]).toMatchObject({ before: { name: 'k' }, after: { name: 'edited' } });

    const events = await harness.sql<any>(
      "select id, type, created_at, org_id, environment, data from outbox_events where data->>'id' = ? order by id",
      [key.id],
    );
    expect(events.map((event) => event.type)).toEqual([
      'api_key.created',
      'api_key.updated',
      'api_key.updated',
      'api_key.updated',
      'api_key.rolled',
      'api_key.revoked',
      'api_key.deleted',
    ]);
    expect(events.every((event) => event.org_id === team.orgId && event.environment === 'test')).toBe(true);
    expect(events[0].data).toMatchObject({ id: key.id, name: 'k', public_key: key.public_key, status: 'active' });
    expect(events[5].data.status).toBe('revoked');
    // Each as subscribers get it, and as the OpenAPI document's WebhookEvent.<type> says.
    expect(events.flatMap((event) => webhookEventErrors({ ...event, created_at: new Date(event.created_at).toISOString() }))).toEqual([]);

    const stored = JSON.stringify([audit, events]);
    for (const secret of [key.secret, rolled.secret]) expect(stored).not.toContain(secret);
    expect(stored).not.toMatch(/hash|sealed|"secret"/);
  });
});
