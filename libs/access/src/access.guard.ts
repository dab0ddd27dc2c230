import { EntityManager } from '@mikro-orm/postgresql';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { AppConfig } from '@latchkey/config';
import { Role } from '@latchkey/contracts';
import { constantTimeEquals, looksLikeManagementKey } from '@latchkey/crypto';
import { AppError, PUBLIC_ROUTE, RedisService, RequestWithPrincipal } from '@latchkey/platform';

import { ALLOWED_ROLES, PLATFORM_ADMIN_ROUTE } from './access.decorators';
import { browserSessionCookieOptions, cookieSessionToken } from './browser-session';
import { authenticateManagementKey } from './management-key-auth';
import { ManagementKeyFailureThrottle } from './management-key-throttle';
import { ACCEPTS_MANAGEMENT_KEY, ManagementKeyRouteOptions } from './management-key.decorators';
import { bearerToken, hashSessionToken, SESSION_TOKEN_PREFIX } from './session-token';

interface SessionRow {
  session_id: string;
  user_id: string;
  org_id: string;
  role: Role;
}

/**
 * The one gate for every HTTP route: public routes pass, platform routes need the
 * operator token, and every other route needs a live session whose role in the
 * session's organisation is one the route lists with @Roles.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    redis: RedisService,
  ) {
    this.managementKeyThrottle = new ManagementKeyFailureThrottle(redis);
  }

  private readonly managementKeyThrottle: ManagementKeyFailureThrottle;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;

    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    // The console's cookie counts only when no Authorization header is sent (browser-session.ts).
    const authorization = request.headers.authorization;
    const token =
      authorization === undefined
        ? cookieSessionToken(request, browserSessionCookieOptions(this.config.get('NODE_ENV')))
        : bearerToken(authorization);
    if (!token) throw AppError.unauthenticated('Send Authorization: Bearer <token>.');

    if (this.reflector.getAllAndOverride<boolean>(PLATFORM_ADMIN_ROUTE, targets)) {
      if (!constantTimeEquals(token, this.config.get('PLATFORM_ADMIN_TOKEN'))) throw AppError.unauthenticated('Invalid platform token.');
      request.principal = { kind: 'platform' };
      return true;
    }

    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ALLOWED_ROLES, targets);
    if (!allowed) throw new Error(`route ${request.method} ${request.url} declares neither @Public, @PlatformAdmin nor @Roles`);

    if (looksLikeManagementKey(token)) {
      const accepts = this.reflector.getAllAndOverride<ManagementKeyRouteOptions | undefined>(ACCEPTS_MANAGEMENT_KEY, targets);
      return authenticateManagementKey(this.em, this.config.get('KEY_HASH_SECRET'), this.managementKeyThrottle, request, token, {
        accepts,
        allowed,
      });
    }
    if (!token.startsWith(SESSION_TOKEN_PREFIX)) throw AppError.unauthenticated('Invalid or expired session.');
    const session = await this.findLiveSession(hashSessionToken(token));
    if (!session) throw AppError.unauthenticated('Invalid or expired session.');
    request.principal = { kind: 'user', userId: session.user_id, orgId: session.org_id, role: session.role, sessionId: session.session_id };
    if (!allowed.includes(session.role)) {
      throw new AppError('INSUFFICIENT_ROLE', `This action needs one of the roles: ${allowed.join(', ')}.`);
    }
    return true;
  }

  /** A session counts only while it is unexpired, unrevoked and its user still belongs to its organisation. */
  private async findLiveSession(tokenHash: string): Promise<SessionRow | undefined> {
    const rows = await this.em.getConnection().execute<SessionRow[]>(
      `select s.id as session_id, s.user_id, s.org_id, m.role
         from sessions s
         join memberships m on m.user_id = s.user_id and m.organization_id = s.org_id
        where s.token_hash = ? and s.revoked_at is null and s.expires_at > now()`,
      [tokenHash],
    );
    return rows[0];
  }
}
