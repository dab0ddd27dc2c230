/**
 * The request path an endpoint restriction is judged on, normalised as RFC 3986
 * §6.2.2 does (percent-encoding, then dot segments), or null where servers and
 * proxies disagree on what the path names. An upstream that resolves
 * `/v1/public/../admin/users` or `/v1/public/%2e%2e/admin/users` serves
 * `/v1/admin/users`, so the restriction must judge that path, not the text sent.
 */

import { isDotSegment, MAX_CHECKED_PATH_LENGTH, normalizePercentEncoding } from '@latchkey/contracts';

/** No escape, no dot, no backslash, no NUL: nothing to decode and no dot segment, so the path is already normal. */
const PLAIN_PATH = /^\/[^%.\\\0]*$/;

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
    if (isDotSegment(segment)) return null;
    if (segment === '' && !last) sawEmpty = true;
    out.push(segment);
  }
  if (sawDot && sawEmpty) return null;
  return `/${out.join('/')}`;
}
