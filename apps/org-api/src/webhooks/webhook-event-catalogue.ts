import { EventType } from '@latchkey/contracts';

/** `events: ["*"]`: every event type, including ones added later. */
export const ALL_EVENTS = '*';

/**
 * One line per event type, served by GET /v1/webhooks/event-types. A Record over
 * EventType, so a new type does not compile until it is described here.
 */
export const EVENT_TYPE_DESCRIPTIONS: Record<EventType, string> = {
  [EventType.ApiKeyCreated]: 'An API key was issued.',
  [EventType.ApiKeyUpdated]: 'An API key was edited, disabled or enabled.',
  [EventType.ApiKeyRolled]: 'An API key got a new secret; the old one works until its grace period ends.',
  [EventType.ApiKeyRevoked]: 'An API key was revoked for good.',
  [EventType.ApiKeyDeleted]: 'An API key was deleted.',
  [EventType.ApiKeyExpiring]: 'An API key expires soon.',
  [EventType.ApiKeyExpired]: 'An API key reached its expiry date.',
  [EventType.ApiKeyRotationDue]: "An API key is older than the organisation's rotation policy.",
  [EventType.UsageQuotaWarning]: "A key's usage passed the warning share of its quota.",
  [EventType.UsageQuotaExceeded]: 'A key used up its quota.',
  [EventType.AlertTriggered]: 'A usage alert fired.',
  [EventType.MemberAdded]: 'A user became a member of the organisation.',
  [EventType.MemberRemoved]: 'A member was removed or left.',
  [EventType.MemberRoleChanged]: "A member's role changed.",
  [EventType.OrgLiveAccessApproved]: 'The organisation may now issue live keys.',
  [EventType.WebhookTest]: 'A test event, sent only to the endpoint it was requested for (POST /v1/webhooks/:id/test).',
  [EventType.WebhookEndpointDisabled]: 'A webhook endpoint was disabled after failing for too long, or because it answered 410 Gone.',
};

/** Every event type an endpoint may subscribe to, in catalogue order. */
export const EVENT_TYPES: EventType[] = Object.values(EventType);
