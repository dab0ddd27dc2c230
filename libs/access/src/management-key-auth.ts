import { EntityManager } from '@mikro-orm/postgresql';

import { AuditService } from '@latchkey/audit';
import { Role } from '@latchkey/contracts';
import { constantTimeEquals, hmacSha256Hex, isWellFormedManagementKey } from '@latchkey/crypto';
import { ActorType } from '@latchkey/db';
import { AppError, clientIp, isAddressInRanges, RequestWithPrincipal, userAgent } from '@latchkey/platform';

import { ManagementKeyFailureThrottle } from './management-key-throttle';
import { ManagementKeyRouteOptions } from './management-key.decorators';

interface ManagementKeyRow {
  id: string;
  organization_id: string;
  role: Role;
  environment: 'test' | 'live' | null;
  token_hash: string;
  ip_allowlist: string[];
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/** `last_used_at` is written at most this often per key, so use costs no write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** One message for every bad token (malformed, unknown, revoked, expired): a refusal tells nothing. */
const INVALID = 'Invalid, revoked or expired management key.';

export interface ManagementKeyRoute {
  /** What the route's @AcceptsManagementKey says; undefined when it has none. */
  accepts: ManagementKeyRouteOptions | undefined;
  /** The roles of its @Roles. */
  allowed: readonly Role[];
}

/**
 * Authenticates `Authorization: Bearer lk_mgmt_…` and sets the request's principal,
 * or throws the refusal (docs/api-conventions.md#management-keys). The token is
 * found by its HMAC (decision 0004) and the stored hash compared in constant time; a
 * malformed one is refused before any database I/O, as a session token with a wrong
 * prefix is. Every refusal of the token itself is counted against the client address,
 * which past its limit is refused with 429 (management-key-throttle.ts). Called by the
 * AccessGuard for @Roles routes only.
 */
export async function authenticateManagementKey(
  em: EntityManager,
  hashSecret: string,
  throttle: ManagementKeyFailureThrottle,
  request: RequestWithPrincipal,
  token: string,
  route: ManagementKeyRoute,
): Promise<true> {
  const ip = clientIp(request);
  await throttle.assertAllowed(ip);
  const refuse = async (): Promise<never> => {
    await throttle.recordFailure(ip);
    throw AppError.unauthenticated(INVALID);
  };
  // A management key is a header credential: never read from a cookie, so it needs no CSRF token.
  if (request.headers.authorization === undefined || !isWellFormedManagementKey(token)) return refuse();
  const tokenHash = hmacSha256Hex(hashSecret, token);
  const rows = await em.getConnection().execute<ManagementKeyRow[]>(
    `select id, organization_id, role, environment, token_hash, ip_allowlist, expires_at, revoked_at, last_used_at
       from management_keys where token_hash = ?`,
    [tokenHash],
  );
  const key = rows[0];
  const now = Date.now();
  if (
    !key ||
    !constantTimeEquals(key.token_hash, tokenHash) ||
    key.revoked_at !== null ||
    (key.expires_at !== null && new Date(key.expires_at).getTime() <= now)
  ) {
    return refuse();
  }

  if (!isAddressInRanges(ip, key.ip_allowlist)) {
    await auditRefusedAddress(em, key, request);
    throw new AppError('MANAGEMENT_KEY_IP_NOT_ALLOWED', 'This management key may not be used from this address.');
  }

  request.principal = { kind: 'management_key', keyId: key.id, orgId: key.organization_id, role: key.role, environment: key.environment };
  if (key.last_used_at === null || now - new Date(key.last_used_at).getTime() >= LAST_USED_RESOLUTION_MS) {
    await em.getConnection().execute(
      `update management_keys set last_used_at = now()
          where id = ? and (last_used_at is null or last_used_at <= now() - interval '1 minute')`,
      [key.id],
      'run',
    );
  }

  if (!route.accepts) {
    throw new AppError('SESSION_REQUIRED', 'This route needs a person’s session; management keys cannot call it.');
  }
  if (key.environment !== null && !route.accepts.honoursEnvironment) {
    throw new AppError('FORBIDDEN', `This management key is narrowed to ${key.environment}; this route is not.`);
  }
  if (!route.allowed.includes(key.role)) {
    throw new AppError('INSUFFICIENT_ROLE', `This action needs one of the roles: ${route.allowed.join(', ')}.`);
  }
  return true;
}

/**
 * A valid key presented from outside its allowlist is worth an owner's attention (it
 * may have leaked), but a script stuck in a loop must not flood the log: one entry a
 * minute per key, gated by a conditional update of `last_refused_at`.
 */
async function auditRefusedAddress(em: EntityManager, key: ManagementKeyRow, request: RequestWithPrincipal): Promise<void> {
  const gate = await em.getConnection().execute<{ affectedRows: number }>(
    `update management_keys set last_refused_at = now()
        where id = ? and (last_refused_at is null or last_refused_at <= now() - interval '1 minute')`,
    [key.id],
    'run',
  );
  if (gate.affectedRows === 0) return;
  const fork = em.fork();
  new AuditService().record(fork, {
    orgId: key.organization_id,
    actor: { type: ActorType.ManagementKey, id: key.id, ip: clientIp(request), userAgent: userAgent(request) },
    action: 'management_key.refused_ip',
    target: { type: 'management_key', id: key.id },
    after: { ip: clientIp(request) },
  });
  await fork.flush();
}
