/**
 * The request path an endpoint restriction is judged on, normalised as RFC 3986
 * §6.2.2 does (percent-encoding, then dot segments), or null where servers and
 * proxies disagree on what the path names. An upstream that resolves
 * `/v1/public/../admin/users` or `/v1/public/%2e%2e/admin/users` serves
 * `/v1/admin/users`, so the restriction must judge that path, not the text sent.
 */

import { MAX_CHECKED_PATH_LENGTH } from '@latchkey/contracts';

/** No escape, no dot, no backslash, no NUL: nothing to decode and no dot segment, so the path is already normal. */
const PLAIN_PATH = /^\/[^%.\\\0]*$/;
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

/**
 * The path without its query string, its unreserved escapes decoded and
 * the other escapes uppercased, its dot segments resolved (RFC 3986 §5.2.4); null
 * for what stays ambiguous: a path that is not absolute, a `#` (a request target never
 * carries a fragment, so one here is text some upstream may read as path: judging
 * `/public/x#/../../admin` as `/public/x` would let it through), an encoded slash or backslash,
 * a backslash, a NUL, invalid percent-encoding, a `..` that climbs above the root, a
 * `..;` segment, and a dot segment next to an empty one (`/a//../b` is `/a/b` to a
 * server that keeps empty segments, `/b` to one that merges slashes first).
 */
export function normalizeRequestPath(path: string): string | null {
  const bare = withoutQuery(path);
  // Only the path is matched, so only its length costs: a long query string is fine.
  if (bare.length > MAX_CHECKED_PATH_LENGTH || bare.includes('#')) return null;
  // Every check with endpoint restrictions comes through here: the common path costs one regex test.
  if (PLAIN_PATH.test(bare)) return bare;
  if (bare.charCodeAt(0) !== 0x2f || bare.includes('\\') || bare.includes('\0')) return null;
  const decoded = normalizePercentEncoding(bare);
  if (decoded === null) return null;
  if (!decoded.includes('.')) return decoded;
  return removeDotSegments(decoded);
}

/** Matched on the path alone: the query string says nothing about which endpoint is called. */
function withoutQuery(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

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

/** Whether an absolute path has a `.` or `..` segment (or a `..;x` one). */
export function hasDotSegment(path: string): boolean {
  if (!path.includes('.')) return false;
  return path.split('/').some((segment) => DOT_SEGMENT.test(segment));
}

/**
 * RFC 3986 §5.2.4 on an absolute path whose escapes are already normal, refusing
 * (null) instead of guessing where the RFC and deployed servers part ways.
 */
function removeDotSegments(path: string): string | null {
  const segments = path.split('/');
  const out: string[] = [];
  let sawDot = false;
  let sawEmpty = false;
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i < segments.length; i += 1) {
    const segment = segments[i];
    const last = i === segments.length - 1;
    if (segment === '.' || segment === '..') {
      sawDot = true;
      if (segment === '..') {
        // The RFC drops a `..` at the root; servers answer 400 or serve the root. Neither is what the key was given.
        if (out.length === 0) return null;
        out.pop();
      }
      // `/a/b/..` is `/a/`: the last dot segment leaves a trailing slash (RFC 3986 §5.2.4 step 2B/2C).
      if (last) out.push('');
      continue;
    }
    if (DOT_SEGMENT.test(segment)) return null;
    if (segment === '' && !last) sawEmpty = true;
    out.push(segment);
  }
  if (sawDot && sawEmpty) return null;
  return `/${out.join('/')}`;
}
