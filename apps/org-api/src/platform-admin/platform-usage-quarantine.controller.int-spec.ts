import { plainToInstance } from 'class-transformer';

import { QuarantinedUsageEvent } from '@latchkey/db';
import { IdPrefix, newId, newUlid } from '@latchkey/ids';
import { PageQueryDto } from '@latchkey/platform';

import { ServiceHarness } from '../../../../test/support/service-harness';
import { PlatformUsageQuarantineController } from './platform-usage-quarantine.controller';

/**
 * The operator's listing of quarantined usage events against Postgres, over rows as the
 * usage worker writes them (a check Postgres refuses never gets past POST /v1/verify, so
 * no public route makes one). Who may list them (the operator token alone) is
 * test/e2e/usage-worker/usage-quarantine.e2e-spec.ts.
 */
describe(PlatformUsageQuarantineController.name, () => {
  let harness: ServiceHarness;
  let controller: PlatformUsageQuarantineController;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [PlatformUsageQuarantineController] });
    controller = harness.get(PlatformUsageQuarantineController);
    const em = harness.em();
    for (const path of ['/v1/a\u0000b', '/v1/\ud800', '\ud83d']) {
      em.create(QuarantinedUsageEvent, {
        id: newId(IdPrefix.QuarantinedUsageEvent),
        batchId: `bat_${newUlid()}`,
        reason: 'path holds a NUL byte or an unpaired surrogate',
        event: JSON.stringify({ key_id: null, path }),
        quarantinedAt: new Date(),
      });
      await em.flush();
    }
  });

  afterAll(async () => {
    await harness?.close();
  });

  const page = (query: Record<string, string>) => controller.list(plainToInstance(PageQueryDto, query));

  it('lists quarantined events a page at a time, each with its batch, reason and event as it arrived', async () => {
    const listed = await page({ limit: '2' });
    expect(listed.items).toHaveLength(2);
    expect(listed.hasMore).toBe(true);
    expect(listed.items[0]).toEqual({
      id: expect.stringMatching(/^qev_/),
      batch_id: expect.stringMatching(/^bat_/),
      reason: expect.any(String),
      event: expect.any(String),
      quarantined_at: expect.any(String),
    });
    const next = await page({ cursor: listed.nextCursor! });
    expect(next.items.map((row) => row.id)).not.toContain(listed.items[0].id);
    expect([...listed.items, ...next.items].map((row) => (JSON.parse(row.event) as { path: string }).path).sort()).toEqual(
      ['/v1/a\u0000b', '/v1/\ud800', '\ud83d'].sort(),
    );
  });
});
