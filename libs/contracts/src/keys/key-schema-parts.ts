/**
 * Schema pieces that more than one contract shows a key with (the `keys.*` replies and
 * the `api_key.*` events), so the two cannot describe a key's limits differently.
 * `as const` keeps the literal types the message types are derived from.
 */

/** An ISO 8601 UTC timestamp (`Date.toISOString()`): compile with EVENT_AJV_OPTIONS, which knows the format. */
export const TIMESTAMP = { type: 'string', format: 'date-time' } as const;
export const NULLABLE_TIMESTAMP = { type: 'string', format: 'date-time', nullable: true } as const;
export const NULLABLE_STRING = { type: 'string', nullable: true } as const;
export const ENVIRONMENT = { type: 'string', enum: ['test', 'live'] } as const;
export const KEY_STATUS = { type: 'string', enum: ['active', 'disabled', 'expired', 'revoked'] } as const;

export const KEY_RESTRICTIONS = {
  type: 'object',
  additionalProperties: false,
  required: ['ip_allowlist', 'referrers', 'endpoints'],
  properties: {
    ip_allowlist: { type: 'array', items: { type: 'string' } },
    referrers: { type: 'array', items: { type: 'string' } },
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['method', 'path'],
        properties: { method: { type: 'string' }, path: { type: 'string' } },
      },
    },
  },
} as const;

export const KEY_RATE_LIMIT = {
  type: 'object',
  nullable: true,
  additionalProperties: false,
  required: ['limit', 'window_seconds'],
  properties: { limit: { type: 'integer' }, window_seconds: { type: 'integer' } },
} as const;

export const KEY_QUOTA = {
  type: 'object',
  nullable: true,
  additionalProperties: false,
  required: ['limit', 'period'],
  properties: { limit: { type: 'integer' }, period: { type: 'string', enum: ['day', 'month', 'total'] } },
} as const;
