import { FilterQuery, LockMode } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { actingIdOf, OrgPrincipal } from '@latchkey/access';
import { AuditActor, AuditService } from '@latchkey/audit';
import { Page, PageRequest } from '@latchkey/contracts';
import { Alert, AlertType, findPage } from '@latchkey/db';
import { IdPrefix, isIdOf } from '@latchkey/ids';
import { AppError } from '@latchkey/platform';

export interface AlertFilter {
  type?: AlertType;
  keyId?: string;
  acknowledged?: boolean;
}

/**
 * Reads and acknowledges one organisation's anomaly alerts; usage-worker raises
 * them. Every lookup is scoped to the session's organisation, so another tenant's
 * alert id is simply not found.
 */
@Injectable()
export class AlertsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  /** Newest first. */
  list(principal: OrgPrincipal, filter: AlertFilter, page: PageRequest): Promise<Page<Alert>> {
    const where: FilterQuery<Alert> = { orgId: principal.orgId };
    if (filter.type) where.type = filter.type;
    if (filter.keyId) where.keyId = filter.keyId;
    if (filter.acknowledged !== undefined) where.acknowledgedAt = filter.acknowledged ? { $ne: null } : null;
    return findPage(this.em, Alert, where, page);
  }

  /** Acknowledging twice is harmless: the first acknowledgement (who and when) stays, and only it is audited. */
  acknowledge(principal: OrgPrincipal, alertId: string, actor: AuditActor): Promise<Alert> {
    return this.em.transactional(async (em) => {
      const alert = isIdOf(IdPrefix.Alert, alertId)
        ? await em.findOne(Alert, { id: alertId, orgId: principal.orgId }, { lockMode: LockMode.PESSIMISTIC_WRITE })
        : null;
      if (!alert) throw AppError.notFound('Alert');
      if (alert.acknowledgedAt) return alert;
      alert.acknowledgedAt = new Date();
      alert.acknowledgedBy = actingIdOf(principal);
      this.audit.record(em, {
        orgId: principal.orgId,
        actor,
        action: 'alert.acknowledged',
        target: { type: 'alert', id: alert.id },
        before: { acknowledged_at: null },
        after: { type: alert.type, key_id: alert.keyId, acknowledged_at: alert.acknowledgedAt.toISOString() },
      });
      await em.flush();
      return alert;
    });
  }
}
