import { FilterQuery } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { Page, PageRequest } from '@latchkey/contracts';
import { AuditLog, findPage } from '@latchkey/db';
import { AppError } from '@latchkey/platform';

export interface AuditLogFilter {
  action?: string;
  actorId?: string;
  targetId?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive, so consecutive windows never count a row twice. */
  to?: Date;
}

/** Reads one organisation's audit log; rows are written by AuditService where each change happens. */
@Injectable()
export class AuditLogsService {
  constructor(private readonly em: EntityManager) {}

  /** Newest first. Always scoped to `orgId`: no filter can reach another organisation's rows. */
  list(orgId: string, filter: AuditLogFilter, page: PageRequest): Promise<Page<AuditLog>> {
    if (filter.from && filter.to && filter.from.getTime() > filter.to.getTime()) {
      throw AppError.validation('from must not be after to.', [{ field: 'from', message: 'must not be after to' }]);
    }
    const where: FilterQuery<AuditLog> = { orgId };
    if (filter.action) where.action = filter.action;
    if (filter.actorId) where.actorId = filter.actorId;
    if (filter.targetId) where.targetId = filter.targetId;
    if (filter.from || filter.to) {
      where.createdAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
    }
    return findPage(this.em, AuditLog, where, page);
  }
}
