import { Transform } from 'class-transformer';
import { Matches, registerDecorator, ValidationOptions } from 'class-validator';

import { IdPrefix } from '@latchkey/ids';

/** Trims a string field before validation; other types pass through to fail their type check. */
export const Trimmed = () => Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** Trims and lower-cases (emails). */
export const TrimmedLowercase = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value));

/** A field holding one of our prefixed ids, e.g. `@IsPrefixedId(IdPrefix.Organization)`. */
export const IsPrefixedId = (prefix: IdPrefix) =>
  Matches(new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`), { message: ({ property }) => `${property} must be a ${prefix}_ id` });

/**
 * A name shown to people (a user's, an organisation's, a key's): no control characters
 * and no line separators. Names go into mail subjects and bodies, log lines and the
 * console; a newline in one could forge lines of any of them.
 */
export const IsDisplayName = () =>
  Matches(/^[^\p{Cc}\p{Zl}\p{Zp}]*$/u, { message: ({ property }) => `${property} must not contain control characters or line breaks` });

/** An ISO-8601 date-time in the future when the request is validated (an expiry). */
export function IsFutureDateTime(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isFutureDateTime',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be in the future`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && Date.parse(value) > Date.now() },
    });
}
