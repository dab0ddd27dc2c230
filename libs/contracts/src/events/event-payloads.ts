import type { JSONSchema } from 'json-schema-to-ts';

import {
  ENVIRONMENT,
  KEY_QUOTA,
  KEY_RATE_LIMIT,
  KEY_RESTRICTIONS,
  KEY_STATUS,
  NULLABLE_STRING,
  NULLABLE_TIMESTAMP,
  TIMESTAMP,
} from '../keys/key-schema-parts';
import { messageContract, MessageContract, MessageOf, RECEIVER_AJV_OPTIONS } from '../message-contract';
import { EventType } from './event-types';

/**
 * The `data` of every domain event, one contract per event type: what the outbox
 * accepts for that type and what a webhook subscriber receives. Each TypeScript type
 * is derived from its schema (docs/decisions/0009-message-contracts.md), and the
 * schemas are published in the OpenAPI document as `WebhookEvent.<type>`.
 *
 * The schemas keep to what OpenAPI 3.0 and Ajv read alike (`nullable`, `enum`, no
 * `const`, no type arrays), so the document takes them as they are. Objects are
 * closed (`additionalProperties: false`): the specs check the events really emitted
 * against them, so a field added to an event without its schema fails a test.
 */

/** An ISO 8601 UTC timestamp as `Date.toISOString()` writes it. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * How to compile an event schema with Ajv: the receivers' strict options, plus the one
 * string format the schemas use (Ajv knows none of its own; no formats package needed).
 */
export const EVENT_AJV_OPTIONS = { ...RECEIVER_AJV_OPTIONS, formats: { 'date-time': ISO_TIMESTAMP } } as const;

const NULLABLE_ENVIRONMENT = { type: 'string', enum: ['test', 'live', null], nullable: true } as const;

/** An API key as every answer and event shows it: never a secret, hash or sealed value. */
const API_KEY_VIEW = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'name',
    'description',
    'environment',
    'prefix',
    'masked',
    'created_at',
    'secret_rotated_at',
    'created_by',
    'owner_id',
    'expires_at',
    'last_used_at',
    'status',
    'revoked_at',
    'disabled_at',
    'permissions',
    'restrictions',
    'rate_limit',
    'quota',
    'metadata',
    'signing',
    'public_key',
    'updated_at',
  ],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    description: NULLABLE_STRING,
    environment: ENVIRONMENT,
    prefix: { type: 'string' },
    masked: { type: 'string' },
    created_at: TIMESTAMP,
    secret_rotated_at: TIMESTAMP,
    created_by: { type: 'string' },
    owner_id: NULLABLE_STRING,
    expires_at: NULLABLE_TIMESTAMP,
    last_used_at: NULLABLE_TIMESTAMP,
    status: KEY_STATUS,
    revoked_at: NULLABLE_TIMESTAMP,
    disabled_at: NULLABLE_TIMESTAMP,
    permissions: { type: 'array', items: { type: 'string' } },
    restrictions: KEY_RESTRICTIONS,
    rate_limit: KEY_RATE_LIMIT,
    quota: KEY_QUOTA,
    metadata: { type: 'object', additionalProperties: true },
    signing: { type: 'boolean' },
    public_key: NULLABLE_STRING,
    updated_at: TIMESTAMP,
  },
} as const;

/** api_key.created, .updated, .rolled, .revoked, .deleted: the key as it now is (deleted: as it was). */
export const API_KEY_EVENT_DATA = messageContract(API_KEY_VIEW);
export type ApiKeyEventData = MessageOf<typeof API_KEY_EVENT_DATA>;

const EXPIRY_FIELDS = {
  key_id: { type: 'string' },
  name: { type: 'string' },
  prefix: { type: 'string' },
  last4: { type: 'string' },
  expires_at: TIMESTAMP,
} as const;

export const API_KEY_EXPIRED_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['key_id', 'name', 'prefix', 'last4', 'expires_at'],
  properties: EXPIRY_FIELDS,
});

export const API_KEY_EXPIRING_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['key_id', 'name', 'prefix', 'last4', 'expires_at', 'days_left'],
  properties: { ...EXPIRY_FIELDS, days_left: { type: 'integer', minimum: 1 } },
});

export const API_KEY_ROTATION_DUE_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['key_id', 'name', 'prefix', 'last4', 'created_at', 'secret_rotated_at', 'age_days', 'rotation_policy_days'],
  properties: {
    key_id: { type: 'string' },
    name: { type: 'string' },
    prefix: { type: 'string' },
    last4: { type: 'string' },
    created_at: TIMESTAMP,
    secret_rotated_at: TIMESTAMP,
    age_days: { type: 'integer', minimum: 0 },
    rotation_policy_days: { type: 'integer', minimum: 1 },
  },
});

/** usage.quota_warning and usage.quota_exceeded. */
export const USAGE_QUOTA_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['key_id', 'name', 'period', 'period_start', 'limit', 'used', 'percent'],
  properties: {
    key_id: { type: 'string' },
    name: { type: 'string' },
    period: { type: 'string', enum: ['day', 'month', 'total'] },
    period_start: TIMESTAMP,
    limit: { type: 'integer' },
    used: { type: 'integer' },
    percent: { type: 'integer', minimum: 0 },
  },
});

/** The alert as GET /v1/alerts shows it. */
export const ALERT_TRIGGERED_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['id', 'org_id', 'key_id', 'environment', 'type', 'severity', 'details', 'created_at', 'acknowledged_at', 'acknowledged_by'],
  properties: {
    id: { type: 'string' },
    org_id: { type: 'string' },
    key_id: NULLABLE_STRING,
    environment: NULLABLE_ENVIRONMENT,
    type: { type: 'string', enum: ['traffic_spike', 'failed_check_burst', 'denial_burst', 'new_network', 'test_key_volume'] },
    severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
    details: { type: 'object', additionalProperties: true },
    created_at: TIMESTAMP,
    acknowledged_at: NULLABLE_TIMESTAMP,
    acknowledged_by: NULLABLE_STRING,
  },
});

const MEMBER_FIELDS = {
  id: { type: 'string' },
  user_id: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
  role: { type: 'string', enum: ['owner', 'admin', 'developer', 'viewer'] },
  created_at: TIMESTAMP,
  updated_at: TIMESTAMP,
} as const;
const MEMBER_REQUIRED = ['id', 'user_id', 'email', 'name', 'role', 'created_at', 'updated_at'] as const;

/** member.added and member.removed: the membership as GET /v1/orgs/:id/members shows it. */
export const MEMBER_EVENT_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: [...MEMBER_REQUIRED],
  properties: MEMBER_FIELDS,
});

export const MEMBER_ROLE_CHANGED_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: [...MEMBER_REQUIRED, 'previous_role'],
  properties: { ...MEMBER_FIELDS, previous_role: { type: 'string', enum: ['owner', 'admin', 'developer', 'viewer'] } },
});

export const ORG_LIVE_ACCESS_APPROVED_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['org_id', 'live_access', 'approved_at'],
  properties: { org_id: { type: 'string' }, live_access: { type: 'string', enum: ['approved'] }, approved_at: TIMESTAMP },
});

export const WEBHOOK_TEST_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['endpoint_id'],
  properties: { endpoint_id: { type: 'string' } },
});

export const WEBHOOK_ENDPOINT_DISABLED_DATA = messageContract({
  type: 'object',
  additionalProperties: false,
  required: ['endpoint_id', 'url', 'reason'],
  properties: { endpoint_id: { type: 'string' }, url: { type: 'string' }, reason: { type: 'string', enum: ['manual', 'gone', 'failing'] } },
});

/** Each event type's data contract. A Record over EventType: a new type does not compile until it has one. */
export const EVENT_DATA_CONTRACTS = {
  [EventType.ApiKeyCreated]: API_KEY_EVENT_DATA,
  [EventType.ApiKeyUpdated]: API_KEY_EVENT_DATA,
  [EventType.ApiKeyRolled]: API_KEY_EVENT_DATA,
  [EventType.ApiKeyRevoked]: API_KEY_EVENT_DATA,
  [EventType.ApiKeyDeleted]: API_KEY_EVENT_DATA,
  [EventType.ApiKeyExpiring]: API_KEY_EXPIRING_DATA,
  [EventType.ApiKeyExpired]: API_KEY_EXPIRED_DATA,
  [EventType.ApiKeyRotationDue]: API_KEY_ROTATION_DUE_DATA,
  [EventType.UsageQuotaWarning]: USAGE_QUOTA_DATA,
  [EventType.UsageQuotaExceeded]: USAGE_QUOTA_DATA,
  [EventType.AlertTriggered]: ALERT_TRIGGERED_DATA,
  [EventType.MemberAdded]: MEMBER_EVENT_DATA,
  [EventType.MemberRemoved]: MEMBER_EVENT_DATA,
  [EventType.MemberRoleChanged]: MEMBER_ROLE_CHANGED_DATA,
  [EventType.OrgLiveAccessApproved]: ORG_LIVE_ACCESS_APPROVED_DATA,
  [EventType.WebhookTest]: WEBHOOK_TEST_DATA,
  [EventType.WebhookEndpointDisabled]: WEBHOOK_ENDPOINT_DISABLED_DATA,
} as const satisfies Record<EventType, MessageContract>;

/** The `data` type of event type `T`. */
export type EventDataOf<T extends EventType> = MessageOf<(typeof EVENT_DATA_CONTRACTS)[T]>;

/** The OpenAPI component name of an event type's whole webhook payload. */
export function webhookEventSchemaName(type: EventType): string {
  return `WebhookEvent.${type}`;
}

/**
 * The whole webhook payload of one event type, `{id, type, created_at, org_id,
 * environment, data}` (docs/api-conventions.md#webhooks), as a plain JSON schema.
 */
export function webhookEventSchema(type: EventType): Exclude<JSONSchema, boolean> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'type', 'created_at', 'org_id', 'environment', 'data'],
    properties: {
      id: { type: 'string', pattern: '^evt_[0-9A-HJKMNP-TV-Z]{26}$' },
      type: { type: 'string', enum: [type] },
      created_at: TIMESTAMP,
      org_id: { type: 'string' },
      environment: NULLABLE_ENVIRONMENT,
      data: EVENT_DATA_CONTRACTS[type].schema,
    },
  };
}
