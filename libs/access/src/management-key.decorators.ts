import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';

import { Principal, RequestWithPrincipal } from '@latchkey/platform';

export const ACCEPTS_MANAGEMENT_KEY = 'latchkey:accepts-management-key';

/**
 * A @Roles route that a management key may call as well as a session (with the key's
 * role). Routes opt in, so an account, session or management-key route can never be
 * reached by a key by omission; a key on any other route is a 403 SESSION_REQUIRED.
 */
export const AcceptsManagementKey = (options: ManagementKeyRouteOptions = {}) =>
  applyDecorators(
    SetMetadata(ACCEPTS_MANAGEMENT_KEY, { honoursEnvironment: options.honoursEnvironment === true }),
    ApiBearerAuth('managementKey'),
  );

export interface ManagementKeyRouteOptions {
  /**
   * The route narrows what it reads and writes to a key's `environment`. A key narrowed
   * to one environment is refused (403 FORBIDDEN) by every route that does not say so,
   * so a narrowed key never sees another environment by omission.
   */
  honoursEnvironment?: boolean;
}

/** A caller acting in one organisation with a role: a person's session or a management key. */
export type OrgPrincipal = Extract<Principal, { kind: 'user' | 'management_key' }>;

/** The caller of an @AcceptsManagementKey route. */
export const CurrentMember = createParamDecorator((_: unknown, context: ExecutionContext): OrgPrincipal => {
  const principal = context.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (principal?.kind !== 'user' && principal?.kind !== 'management_key') throw new Error('CurrentMember used on a route without a member');
  return principal;
});

/**
 * Who a change is attributed to in `created_by`-style columns: the person, or the
 * management key (`mgk_…`) that made it. A developer-role key thus manages the API
 * keys it created, as a developer manages their own.
 */
export function actingIdOf(principal: OrgPrincipal): string {
  return principal.kind === 'user' ? principal.userId : principal.keyId;
}
