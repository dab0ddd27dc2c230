import { randomBytes } from 'node:crypto';

import { EntityManager } from '@mikro-orm/postgresql';
import { Provider } from '@nestjs/common';

import { ApiKey } from '@latchkey/db';
import { MetricsService, RedisService } from '@latchkey/platform';

import { AlertRecorder } from '../../apps/usage-worker/src/anomalies/alert-recorder.service';
import { AnomalyDetector } from '../../apps/usage-worker/src/anomalies/anomaly-detector.service';
import { Clock } from '../../apps/usage-worker/src/reminders/clock';
import { QuotaWatcher } from '../../apps/usage-worker/src/reminders/quota-watcher.service';
import { RecordUsageProcessor } from '../../apps/usage-worker/src/usage-events/record-usage.processor';
import { RequestLogRetentionService } from '../../apps/usage-worker/src/usage-events/request-log-retention.service';
import { UsageLedgerService } from '../../apps/usage-worker/src/usage-events/usage-ledger.service';

/**
 * What the usage consumer (RecordUsageProcessor on the usage queue) needs in a
 * ServiceHarness: the ledger, and the anomaly and quota watchers it tells of each
 * counted batch.
 */
export const USAGE_CONSUMER_PROVIDERS: Provider[] = [
  AlertRecorder,
  AnomalyDetector,
  Clock,
  MetricsService,
  QuotaWatcher,
  RecordUsageProcessor,
  RedisService,
  RequestLogRetentionService,
  UsageLedgerService,
];

/** An API key row of `orgId`, as key-issuer stores one (its secret is never needed here). */
export async function seedApiKey(em: EntityManager, orgId: string, fields: Partial<ApiKey> = {}): Promise<ApiKey> {
  const now = new Date();
  const key = em.create(ApiKey, {
    organization: orgId,
    environment: 'test',
    name: 'metered',
    prefix: 'sk_test_',
    last4: 'wxyz',
    secretHash: randomBytes(32).toString('hex'),
    createdBy: 'usr_test',
    createdAt: now,
    secretRotatedAt: now,
    ...fields,
  });
  await em.flush();
  return key;
}
