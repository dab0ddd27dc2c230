import { ActorType, AuditLog } from '@latchkey/db';

import { seedOrg } from '../../../test/support/org-seeds';
import { ServiceHarness } from '../../../test/support/service-harness';
import { AuditService } from './audit.service';

describe(AuditService.name, () => {
  let harness: ServiceHarness;
  let audit: AuditService;

  beforeAll(async () => {
    harness = await ServiceHarness.start();
    audit = harness.get(AuditService);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const actor = { type: ActorType.User, id: 'usr_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', ip: '203.0.113.7', userAgent: 'int-spec/1.0' };
  const rowsOf = (orgId: string) => harness.em().find(AuditLog, { orgId }, { orderBy: { id: 'asc' } });

  it('writes the row with the change it describes, and none when the change rolls back', async () => {
    const { orgId } = await seedOrg(harness.em());
    await harness.em().transactional(async (em) => {
      audit.record(em, {
        orgId,
        actor,
        action: 'org.updated',
        target: { type: 'organization', id: orgId },
        before: { name: 'a' },
        after: { name: 'b' },
      });
    });
    await expect(
      harness.em().transactional(async (em) => {
        audit.record(em, { orgId, actor, action: 'org.updated', after: { name: 'c' } });
        await em.flush();
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');

    expect(await rowsOf(orgId)).toEqual([
      expect.objectContaining({
        actorType: 'user',
        actorId: actor.id,
        action: 'org.updated',
        targetType: 'organization',
        targetId: orgId,
        ip: '203.0.113.7',
        userAgent: 'int-spec/1.0',
        before: { name: 'a' },
        after: { name: 'b' },
      }),
    ]);
  });

  it('stores no secret-looking field of before or after, at any depth, and dates as ISO text', async () => {
    const { orgId } = await seedOrg(harness.em());
    const at = new Date('2026-11-23T10:00:00.000Z');
    await harness.em().transactional(async (em) => {
      audit.record(em, {
        orgId,
        actor,
        action: 'api_key.rolled',
        before: { name: 'k', secret_hash: 'h1', nested: { token: 't', kept: 1 } },
        after: { name: 'k', key: 'sk_live_x', rows: [{ password: 'p', at }] },
      });
    });

    const [row] = await harness.sql<{ before: unknown; after: unknown }>('select before, after from audit_logs where org_id = ?', [orgId]);
    expect(row).toEqual({ before: { name: 'k', nested: { kept: 1 } }, after: { name: 'k', rows: [{ at: '2026-11-23T10:00:00.000Z' }] } });
  });

  describe('append-only in the database', () => {
    it.each([
      ['UPDATE', (id: string) => [`update audit_logs set action = 'org.forged', after = '{"name":"x"}' where id = ?`, [id]] as const],
      ['DELETE', (id: string) => ['delete from audit_logs where id = ?', [id]] as const],
      ['TRUNCATE', () => ['truncate audit_logs', []] as const],
      ['TRUNCATE … CASCADE', () => ['truncate table audit_logs cascade', []] as const],
    ])('refuses %s and leaves the row as it was', async (_, statement) => {
      const { orgId } = await seedOrg(harness.em());
      await harness.em().transactional(async (em) => {
        audit.record(em, { orgId, actor, action: 'org.updated', after: { name: 'Evidence Ltd' } });
      });
      const [row] = await harness.sql<{ id: string }>('select * from audit_logs where org_id = ?', [orgId]);
      const count = await harness.sql('select count(*) as n from audit_logs');

      const [sql, params] = statement(row.id);
      await expect(harness.sql(sql, [...params])).rejects.toThrow(/append-only/);

      expect(await harness.sql('select * from audit_logs where id = ?', [row.id])).toEqual([row]);
      expect(await harness.sql('select count(*) as n from audit_logs')).toEqual(count);
    });
  });
});
