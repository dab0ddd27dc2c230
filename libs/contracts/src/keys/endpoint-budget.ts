/**
 * How much multi-wildcard pattern a key may hold: the characters of all its endpoint
 * patterns that have two or more wildcards (`*` or `{name}`), together. Such a pattern
 * is matched by an automaton whose cost grows with the path times the pattern's
 * length, on every check of the key, so one tenant's restrictions could otherwise
 * buy seconds of auth-check's time per request. Patterns with at most one wildcard
 * cost little and count nothing. key-issuer refuses a key over the budget;
 * auth-check lets a pattern past it (stored before the rule) match nothing.
 */
export const MULTI_WILDCARD_PATTERN_BUDGET = 1024;

/** What a pattern counts against MULTI_WILDCARD_PATTERN_BUDGET. */
export function multiWildcardCost(pattern: string): number {
  const wildcards = (pattern.match(/\*|\{[^}/]*\}/g) ?? []).length;
  return wildcards >= 2 ? pattern.length : 0;
}
