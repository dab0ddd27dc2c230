/**
 * The path grammar that key-issuer validates endpoint patterns with and auth-check
 * matches request paths with: one definition, so a pattern key-issuer accepts is one
 * auth-check can match, and one it refuses is one auth-check would compile to nothing.
 */

/** A `%` and whatever follows it; a `%` without two hex digits after it is invalid. */
const PERCENT = /%([0-9A-Fa-f]{2})?/g;
/** ALPHA / DIGIT / - . _ ~: the only characters whose escapes name the same resource decoded (RFC 3986 §2.3). */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/**
 * `%2F` and `%5C` are a slash or a backslash to some servers and a plain byte to others,
 * `%00` ends the path for some: whatever Latchkey judged, the upstream may serve another path.
 */
const AMBIGUOUS_ESCAPES = new Set(['%2F', '%5C', '%00']);
/** `.`, `..`, and `..;x` (Tomcat and Spring drop a path parameter, then resolve the dot segment). */
const DOT_SEGMENT = /^\.\.?(?:;|$)/;
/** An absolute path of RFC 3986 path characters, escapes, and the pattern's `*` and `{name}`. */
const PATTERN_CHARACTERS = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/{}%]*$/;

/**
 * Unreserved escapes decoded (`%7E` → `~`, `%2e` → `.`), every other escape in
 * uppercase (`%3f` → `%3F`); null for an invalid escape or an ambiguous one
 * (`%2F`, `%5C`, `%00`). Endpoint patterns go through it too, so `/v1/%7Euser`
 * and `/v1/~user` are one pattern.
 */
export function normalizePercentEncoding(text: string): string | null {
  if (!text.includes('%')) return text;
  let valid = true;
  const normal = text.replace(PERCENT, (_escape: string, hex: string | undefined) => {
    if (hex === undefined) {
      valid = false;
      return '';
    }
    const upper = `%${hex.toUpperCase()}`;
    if (AMBIGUOUS_ESCAPES.has(upper)) valid = false;
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : upper;
  });
  return valid ? normal : null;
}

/** Whether one segment is `.`, `..` or `..;x`. */
export const isDotSegment = (segment: string): boolean => DOT_SEGMENT.test(segment);

/** Whether an absolute path has a `.` or `..` segment (or a `..;x` one). */
export function hasDotSegment(path: string): boolean {
  if (!path.includes('.')) return false;
  return path.split('/').some(isDotSegment);
}

/**
 * An endpoint pattern with its escapes normalised, or null when it can name no
 * normalised request path: an invalid or ambiguous escape, a backslash, or a dot
 * segment (plain or as `%2e`).
 */
export function normalEndpointPattern(pattern: string): string | null {
  const normal = normalizePercentEncoding(pattern);
  if (normal === null || normal.includes('\\') || hasDotSegment(normal)) return null;
  return normal;
}

/** Whether key-issuer accepts `pattern` as an endpoint path: absolute, path characters only, and matchable. */
export const isEndpointPathPattern = (pattern: string): boolean =>
  PATTERN_CHARACTERS.test(pattern) && normalEndpointPattern(pattern) !== null;
