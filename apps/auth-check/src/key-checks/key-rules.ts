import { CompiledKey, originOf, parseClientIp } from '../key-records/compiled-key';
import { normalizeRequestPath } from '../key-records/request-path';

/** An empty allowlist allows every address; otherwise the address must fall in one of its ranges. */
export function ipAllowed(key: CompiledKey, ip: string | null): boolean {
  if (key.ipRanges.length === 0) return true;
  if (!ip) return false;
  const address = parseClientIp(ip);
  if (!address) return false;
  return key.ipRanges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

export function referrerAllowed(key: CompiledKey, referrer: string | null): boolean {
  if (key.referrers.length === 0) return true;
  const origin = referrer ? originOf(referrer) : null;
  return origin !== null && key.referrers.some((pattern) => pattern.test(origin));
}

export function endpointAllowed(key: CompiledKey, method: string | null, path: string | null): boolean {
  if (key.endpoints.length === 0) return true;
  if (!method || !path) return false;
  // Judged on the path the upstream will serve (`/v1/public/../admin` is `/v1/admin`); a path
  // servers could read two ways is refused rather than guessed at.
  const normal = normalizeRequestPath(path);
  if (normal === null) return false;
  const upper = method.toUpperCase();
  return key.endpoints.some((rule) => (rule.method === '*' || rule.method === upper) && rule.path.test(normal));
}

/**
 * Whether a held permission covers a requested one, scope by scope: a `*` scope
 * matches any one scope, and a trailing `*` any remaining ones, so a held
 * `payments:*` covers `payments:read` and `payments:refunds:create`. A request
 * never widens anything: asking for `payments:*` needs `payments:*` (or wider) held.
 */
export function permissionCovers(held: string, requested: string): boolean {
  if (held === requested) return true;
  const have = held.split(':');
  const want = requested.split(':');
  for (let i = 0; i < have.length; i += 1) {
    const scope = have[i];
    if (scope === '*' && i === have.length - 1) return want.length > i;
    if (i >= want.length) return false;
    if (scope !== '*' && scope !== want[i]) return false;
  }
  return have.length === want.length;
}

export function hasPermissions(held: readonly string[], requested: readonly string[] | undefined): boolean {
  if (!requested || requested.length === 0) return true;
  return requested.every((permission) => held.some((have) => permissionCovers(have, permission)));
}
