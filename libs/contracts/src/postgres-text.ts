/**
 * A NUL, or a UTF-16 surrogate that is not half of a pair. With the `u` flag a paired
 * surrogate is one astral code point, outside the class, so only the lone ones match.
 */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const REFUSED_BY_POSTGRES = /[\u0000\ud800-\udfff]/u;

/**
 * Whether Postgres can store this string as text (or inside jsonb). It refuses a NUL
 * byte and an unpaired surrogate (which has no UTF-8 form); either one in a multi-row
 * statement fails the whole statement, so values that end up in a shared write (the
 * usage batch above all) are checked before they get there.
 */
export function isPostgresText(value: string): boolean {
  return !REFUSED_BY_POSTGRES.test(value);
}
