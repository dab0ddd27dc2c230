import { Role } from '@latchkey/contracts';
import { AppError } from '@latchkey/platform';

export const ApiKeyAction = {
  Create: 'create',
  Read: 'read',
  Update: 'update',
  Disable: 'disable',
  Enable: 'enable',
  Roll: 'roll',
  Revoke: 'revoke',
  Delete: 'delete',
} as const;
export type ApiKeyAction = (typeof ApiKeyAction)[keyof typeof ApiKeyAction];

export interface ApiKeyActor {
  role: Role;
  userId: string;
}

/**
 * Who may do what to a key (docs/api-conventions.md#roles), in one place: owners and
 * admins manage every key; developers create keys and manage only the ones they
 * created (seed 002: "User can only add their own API Keys") but read all of them;
 * viewers only read. Call it after the key was found in the caller's organisation,
 * so another tenant's key is a 404 before it is ever a 403. Throws the AppError that
 * refuses the action.
 */
export function assertApiKeyActionAllowed(actor: ApiKeyActor, action: ApiKeyAction, key?: { createdBy: string }): void {
  switch (actor.role) {
    case Role.Owner:
    case Role.Admin:
      return;
    case Role.Developer:
      if (action === ApiKeyAction.Create || action === ApiKeyAction.Read) return;
      if (key && key.createdBy === actor.userId) return;
      throw new AppError('INSUFFICIENT_ROLE', 'Developers manage only the keys they created.');
    case Role.Viewer:
      if (action === ApiKeyAction.Read) return;
      throw new AppError('INSUFFICIENT_ROLE', 'Viewers can only read keys.');
  }
}
