import { MikroORM } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';

import { DAY_MS } from '@latchkey/db';
import { IdPrefix } from '@latchkey/ids';

import { BatchedDeleteLimits, DEFAULT_DELETE_LIMITS, deleteEndedRows } from '../database/delete-in-batches';

/**
 * How long a session or mailed token is kept once it can no longer be used: a day, so
 * a question about yesterday's login or link can still be answered from the table,
 * while nothing that works is ever deleted.
 */
export const ENDED_CREDENTIAL_GRACE_DAYS = 1;

export interface EndedCredentialsPruneRun {
  sessions: number;
  userTokens: number;
}

/**
 * Deletes admin sessions that expired or were revoked, and mailed single-use tokens
 * (email verification, password reset) that expired or were used, more than
 * ENDED_CREDENTIAL_GRACE_DAYS ago. Only their hashes are stored, but a row that can
 * never be used again has no purpose left. Invitations are not among them: an
 * answered invitation is an organisation's history. Run by the usage maintenance
 * job, in bounded batches.
 */
@Injectable()
export class EndedCredentialsPruner {
  constructor(private readonly orm: MikroORM) {}

  async prune(now: Date, limits: BatchedDeleteLimits = DEFAULT_DELETE_LIMITS): Promise<EndedCredentialsPruneRun> {
    const before = new Date(now.getTime() - ENDED_CREDENTIAL_GRACE_DAYS * DAY_MS);
    // What the id range passes over is only what was created before the cutoff and is still
    // usable (at most SESSION_TTL_HOURS' worth of sessions). least() ignores nulls.
    const sessions = await deleteEndedRows(
      this.orm,
      { table: 'sessions', idPrefix: IdPrefix.Session, before, ended: 'least(expires_at, revoked_at) < ?', endedParams: [before] },
      limits,
    );
    const userTokens = await deleteEndedRows(
      this.orm,
      { table: 'user_tokens', idPrefix: IdPrefix.UserToken, before, ended: 'least(expires_at, used_at) < ?', endedParams: [before] },
      limits,
    );
    return { sessions: sessions.deleted, userTokens: userTokens.deleted };
  }
}
