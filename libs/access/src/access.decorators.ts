import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';

import { Role } from '@latchkey/contracts';
import { Principal, RequestWithPrincipal } from '@latchkey/platform';

export const ALLOWED_ROLES = 'latchkey:allowed-roles';
export const PLATFORM_ADMIN_ROUTE = 'latchkey:platform-admin';

/**
 * The roles that may call a route. Every authenticated route states its roles:
 * the guard refuses a route that forgot to, so "forgot the check" cannot ship.
 */
export const Roles = (...roles: Role[]) => applyDecorators(SetMetadata(ALLOWED_ROLES, roles), ApiBearerAuth('session'));

/** Routes of the platform operator, authorised by PLATFORM_ADMIN_TOKEN instead of a session. */
export const PlatformAdmin = () => applyDecorators(SetMetadata(PLATFORM_ADMIN_ROUTE, true), ApiBearerAuth('platform'));

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/** The signed-in user's principal (session routes only). */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): UserPrincipal => {
  const principal = context.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (principal?.kind !== 'user') throw new Error('CurrentUser used on a route without a session');
  return principal;
});
