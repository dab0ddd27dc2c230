/** Field names that never enter an audit row, whatever object they sit in. */
const SECRET_FIELD = /(secret|password|token|hash|sealed|^key$|private)/i;

/**
 * A copy of `value` with every secret-looking field removed (recursively), for the
 * before/after of an audit row.
 */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => redactSecrets(item)) as T;
  if (value instanceof Date) return value.toISOString() as T;
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_FIELD.test(field)) continue;
    copy[field] = redactSecrets(inner);
  }
  return copy as T;
}
