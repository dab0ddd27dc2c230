/**
 * Domain event types (docs/api-conventions.md#webhooks). They name webhook events,
 * audit actions and outbox rows alike. Part of the public contract: DO NOT RENAME a
 * shipped type.
 */
export const EventType = {
  ApiKeyCreated: 'api_key.created',
  ApiKeyUpdated: 'api_key.updated',
  ApiKeyRolled: 'api_key.rolled',
  ApiKeyRevoked: 'api_key.revoked',
  ApiKeyDeleted: 'api_key.deleted',
  ApiKeyExpiring: 'api_key.expiring',
  ApiKeyExpired: 'api_key.expired',
  ApiKeyRotationDue: 'api_key.rotation_due',
  UsageQuotaWarning: 'usage.quota_warning',
  UsageQuotaExceeded: 'usage.quota_exceeded',
  AlertTriggered: 'alert.triggered',
  MemberAdded: 'member.added',
  MemberRemoved: 'member.removed',
  MemberRoleChanged: 'member.role_changed',
  OrgLiveAccessApproved: 'org.live_access_approved',
  WebhookTest: 'webhook.test',
  WebhookEndpointDisabled: 'webhook.endpoint_disabled',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** The envelope every event travels in: outbox → queue → webhook payload. */
export interface DomainEvent<TData = Record<string, unknown>> {
  id: string;
  type: EventType;
  created_at: string;
  org_id: string;
  environment: 'test' | 'live' | null;
  data: TData;
}
