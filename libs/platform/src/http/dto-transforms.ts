import { Transform } from 'class-transformer';
import { Matches } from 'class-validator';

import { IdPrefix } from '@latchkey/ids';

/** Trims a string field before validation; other types pass through to fail their type check. */
export const Trimmed = () => Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** Trims and lower-cases (emails). */
export const TrimmedLowercase = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value));

/** A field holding one of our prefixed ids, e.g. `@IsPrefixedId(IdPrefix.Organization)`. */
export const IsPrefixedId = (prefix: IdPrefix) =>
  Matches(new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`), { message: ({ property }) => `${property} must be a ${prefix}_ id` });
