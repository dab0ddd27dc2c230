import { Alert } from './alert.entity';
import { ApiKey } from './api-key.entity';
import { AuditLog } from './audit-log.entity';
import { IdempotencyRecord } from './idempotency-record.entity';
import { Invitation } from './invitation.entity';
import { ManagementKey } from './management-key.entity';
import { Membership } from './membership.entity';
import { Organization } from './organization.entity';
import { OutboxEvent } from './outbox-event.entity';
import { ProcessedUsageBatch } from './processed-usage-batch.entity';
import { QuarantinedUsageEvent } from './quarantined-usage-event.entity';
import { RequestLog } from './request-log.entity';
import { SentReminder } from './sent-reminder.entity';
import { Session } from './session.entity';
import { UsageCounter } from './usage-counter.entity';
import { UserToken } from './user-token.entity';
import { User } from './user.entity';
import { WebhookDeliveryAttempt } from './webhook-delivery-attempt.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

export * from './alert.entity';
export * from './api-key.entity';
export * from './audit-log.entity';
export * from './idempotency-record.entity';
export * from './invitation.entity';
export * from './management-key.entity';
export * from './membership.entity';
export * from './organization.entity';
export * from './outbox-event.entity';
export * from './processed-usage-batch.entity';
export * from './quarantined-usage-event.entity';
export * from './request-log.entity';
export * from './sent-reminder.entity';
export * from './session.entity';
export * from './usage-counter.entity';
export * from './user.entity';
export * from './user-token.entity';
export * from './webhook-delivery.entity';
export * from './webhook-delivery-attempt.entity';
export * from './webhook-endpoint.entity';

/** Every entity of the schema; the one list MikroORM is configured with. */
export const ALL_ENTITIES = [
  Alert,
  ApiKey,
  AuditLog,
  IdempotencyRecord,
  Invitation,
  ManagementKey,
  Membership,
  Organization,
  OutboxEvent,
  ProcessedUsageBatch,
  QuarantinedUsageEvent,
  RequestLog,
  SentReminder,
  Session,
  UsageCounter,
  User,
  UserToken,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookEndpoint,
];
