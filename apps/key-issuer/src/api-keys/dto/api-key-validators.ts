import { registerDecorator, ValidationOptions } from 'class-validator';

import { MULTI_WILDCARD_PATTERN_BUDGET, multiWildcardCost } from '@latchkey/contracts';

import { normalizeIpRange } from '../ip-range';

/** `payments:read`, `reports.export:*`: a resource, then colon-separated scopes. */
export const PERMISSION_PATTERN = /^[a-z0-9_.-]+(:[a-z0-9_.*-]+)*$/i;

/**
 * An origin pattern: scheme (`http`, `https` or `*`), a host whose first label may
 * be `*` (`https://*.example.com`), an optional port or `:*`. No path: a Referer is
 * matched on its origin.
 */
export const REFERRER_PATTERN =
  /^(https?|\*):\/\/(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:(\d{1,5}|\*))?$/i;

/**
 * An absolute path; `*` matches one or more segments' worth of characters, `{name}`
 * one segment. Refused: what stays ambiguous after normalisation — an encoded slash,
 * backslash or NUL (`%2F`, `%5C`, `%00`), a `%` without two hex digits, and a `.` or
 * `..` segment, plain, encoded (`%2e%2e`) or with a path parameter (`..;x`).
 * auth-check refuses request paths like these before matching
 * (apps/auth-check/src/key-records/request-path.ts) and compiles such a pattern to
 * one that matches nothing, so a key saved with one would refuse every call.
 */
export const ENDPOINT_PATH_PATTERN =
  /^(?!.*%(?:2f|5c|00))(?!.*\/(?:\.|%2e){1,2}(?:[/;]|$))\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/{}]|%[0-9a-f]{2})*$/i;

export const ENDPOINT_PATH_MESSAGE =
  'path must be an absolute path such as /v1/payments/* or /v1/items/{id}, without . or .. segments (also as %2e), ' +
  'encoded slashes, backslashes or NULs (%2F, %5C, %00), or a % not followed by two hex digits';

export const ENDPOINT_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*'] as const;
export type EndpointMethod = (typeof ENDPOINT_METHODS)[number];

export const METADATA_MAX_BYTES = 4096;

/** Each element is an IPv4/IPv6 address or CIDR that ipaddr.js accepts (see normalizeIpRange). */
export function IsIpRangeList(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isIpRangeList',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must hold IPv4/IPv6 addresses or CIDRs such as 203.0.113.0/24`, ...options },
      validator: {
        validate: (value: unknown) =>
          Array.isArray(value) && value.every((item) => typeof item === 'string' && normalizeIpRange(item) !== null),
      },
    });
}

/** Endpoint patterns whose multi-wildcard ones fit MULTI_WILDCARD_PATTERN_BUDGET together (see there why). */
export function IsWithinWildcardBudget(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isWithinWildcardBudget',
      target: target.constructor,
      propertyName,
      options: {
        message:
          `${propertyName} patterns with two or more wildcards (* or {name}) may hold ` +
          `${MULTI_WILDCARD_PATTERN_BUDGET} characters in all; use fewer or shorter ones`,
        ...options,
      },
      validator: {
        validate: (value: unknown) =>
          !Array.isArray(value) ||
          value.reduce<number>(
            (total, item: { path?: unknown }) => total + (typeof item?.path === 'string' ? multiWildcardCost(item.path) : 0),
            0,
          ) <= MULTI_WILDCARD_PATTERN_BUDGET,
      },
    });
}

/** A JSON object whose serialised form is at most METADATA_MAX_BYTES bytes (UTF-8). */
export function IsSmallJsonObject(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isSmallJsonObject',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be a JSON object of at most ${METADATA_MAX_BYTES} bytes`, ...options },
      validator: {
        validate: (value: unknown) =>
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Buffer.byteLength(JSON.stringify(value), 'utf8') <= METADATA_MAX_BYTES,
      },
    });
}

/** An ISO-8601 date-time in the future (checked when the request is validated). */
export function IsFutureDate(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isFutureDate',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be in the future`, ...options },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && Date.parse(value) > Date.now(),
      },
    });
}

export const upper = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value);
