import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

import { EventType } from '@latchkey/contracts';
import { Alert, alertView } from '@latchkey/db';
import { OutboxService } from '@latchkey/outbox';

import { AlertDecision } from './anomaly-rules';

export interface NewAlert extends AlertDecision {
  createdAt: Date;
}

/** Episodes this process remembers as stored; past this many it starts over (the memory only saves writes). */
const KNOWN_EPISODES_MAX = 100_000;

/**
 * Stores alerts once per episode and announces each new one as `alert.triggered`
 * in the same transaction: one multi-row `insert … on conflict do nothing returning`,
 * and an outbox event only for the rows that insert created. An episode seen again
 * (the next batch of the same spike, another worker process) inserts and sends nothing.
 *
 * Episodes this process has seen stored are remembered, so the rest of a spike costs
 * no transaction at all: a rule keeps firing on every batch of an episode, and a write
 * per batch would double the Postgres transactions per check under load.
 */
@Injectable()
export class AlertRecorder {
  private readonly known = new Set<string>();

  constructor(
    private readonly orm: MikroORM,
    private readonly outbox: OutboxService,
  ) {}

  /** Returns the alerts that are new. */
  async record(candidates: NewAlert[]): Promise<Alert[]> {
    const unique = new Map<string, NewAlert>();
    for (const candidate of candidates) {
      const episode = `${candidate.orgId}|${candidate.type}|${candidate.episodeKey}`;
      if (!this.known.has(episode)) unique.set(episode, candidate);
    }
    if (unique.size === 0) return [];
    const em = this.orm.em.fork() as EntityManager;
    const created = await em.transactional(async (tx) => {
      // Plain objects, not managed entities: the insert below writes them, and only when new.
      const alerts = [...unique.values()].map((candidate) => Object.assign(new Alert(), candidate));
      const rows = await tx.execute<{ id: string }[]>(
        `insert into alerts (id, org_id, key_id, environment, type, severity, episode_key, details, created_at)
         values ${alerts.map(() => '(?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)').join(', ')}
         on conflict (org_id, type, episode_key) do nothing
         returning id`,
        alerts.flatMap((alert) => [
          alert.id,
          alert.orgId,
          alert.keyId,
          alert.environment,
          alert.type,
          alert.severity,
          alert.episodeKey,
          JSON.stringify(alert.details),
          alert.createdAt,
        ]),
      );
      const inserted = new Set(rows.map((row) => row.id));
      const created = alerts.filter((alert) => inserted.has(alert.id));
      for (const alert of created) {
        this.outbox.add(tx, {
          orgId: alert.orgId,
          environment: alert.environment,
          type: EventType.AlertTriggered,
          data: { ...alertView(alert) },
        });
      }
      return created;
    });
    // Remembered only once committed (new or already there): a rolled-back insert must be tried again.
    if (this.known.size + unique.size > KNOWN_EPISODES_MAX) this.known.clear();
    for (const episode of unique.keys()) this.known.add(episode);
    return created;
  }
}
