import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { AuditLog } from '@latchkey/db';

import { AuditActor } from './audit-actor';
import { redactSecrets } from './redact-secrets';

export interface AuditEntry {
  orgId: string;
  actor: AuditActor;
  /** Named like the events: `member.role_changed`, `api_key.created`, … */
  action: string;
  target?: { type: string; id: string };
  before?: object | null;
  after?: object | null;
}

/**
 * Writes audit rows. Pass the EntityManager of the change's own transaction so the
 * row commits (or rolls back) with the change it describes.
 */
@Injectable()
export class AuditService {
  record(em: EntityManager, entry: AuditEntry): AuditLog {
    const row = em.create(AuditLog, {
      orgId: entry.orgId,
      actorType: entry.actor.type,
      actorId: entry.actor.id,
      action: entry.action,
      targetType: entry.target?.type ?? null,
      targetId: entry.target?.id ?? null,
      ip: entry.actor.ip,
      userAgent: entry.actor.userAgent,
      before: entry.before ? (redactSecrets(entry.before) as Record<string, unknown>) : null,
      after: entry.after ? (redactSecrets(entry.after) as Record<string, unknown>) : null,
    });
    em.persist(row);
    return row;
  }
}
