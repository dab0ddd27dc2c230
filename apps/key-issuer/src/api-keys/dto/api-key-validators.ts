import { registerDecorator, ValidationOptions } from 'class-validator';

import { isEndpointPathPattern, MULTI_WILDCARD_PATTERN_BUDGET, multiWildcardCost } from '@latchkey/contracts';

/** `payments:read`, `reports.export:*`: a resource, then colon-separated scopes. */
export const PERMISSION_PATTERN = /^[a-z0-9_.-]+(:[a-z0-9_.*-]+)*$/i;

/**
 * An origin pattern: scheme (`http`, `https` or `*`), a host whose first label may
 * be `*` (`https://*.example.com`), an optional port or `:*`. No path: a Referer is
 * matched on its origin.
 */
export const REFERRER_PATTERN =
  /^(https?|\*):\/\/(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:(\d{1,5}|\*))?$/i;

export const ENDPOINT_PATH_MESSAGE =
  'path must be an absolute path such as /v1/payments/* or /v1/items/{id}, without . or .. segments (also as %2e), ' +
  'encoded slashes, backslashes or NULs (%2F, %5C, %00), or a % not followed by two hex digits';

/**
 * An absolute path; `*` matches one or more segments' worth of characters, `{name}` one
 * segment. Refused: what auth-check could never match (see isEndpointPathPattern) — an
 * encoded slash, backslash or NUL, a `%` without two hex digits, a `.` or `..` segment
 * (also encoded or with a path parameter) — so a key is never saved with a rule that
 * would refuse every call.
 */
export function IsEndpointPath(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isEndpointPath',
      target: target.constructor,
      propertyName,
      options: { message: ENDPOINT_PATH_MESSAGE, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && isEndpointPathPattern(value) },
    });
}

export const ENDPOINT_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*'] as const;
export type EndpointMethod = (typeof ENDPOINT_METHODS)[number];

export const METADATA_MAX_BYTES = 4096;

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

export const upper = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value);
