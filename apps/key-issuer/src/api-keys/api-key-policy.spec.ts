import { Role } from '@latchkey/contracts';
import { AppError } from '@latchkey/platform';

import { ApiKeyAction, ApiKeyActor, assertApiKeyActionAllowed } from './api-key-policy';

const MINE = 'usr_mine';
const key = (createdBy: string) => ({ createdBy });

function verdict(actor: ApiKeyActor, action: ApiKeyAction, target?: { createdBy: string }): string {
  try {
    assertApiKeyActionAllowed(actor, action, target);
    return 'allowed';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

const CHANGES = [
  ApiKeyAction.Update,
  ApiKeyAction.Disable,
  ApiKeyAction.Enable,
  ApiKeyAction.Roll,
  ApiKeyAction.Revoke,
  ApiKeyAction.Delete,
];

describe(assertApiKeyActionAllowed.name, () => {
  it.each([Role.Owner, Role.Admin])('lets an %s do everything to every key', (role) => {
    for (const action of Object.values(ApiKeyAction)) {
      expect(verdict({ role, userId: MINE }, action, key('usr_someone_else'))).toBe('allowed');
    }
  });

  it('lets a developer create, read all, and change only their own keys', () => {
    const developer = { role: Role.Developer, userId: MINE };
    expect(verdict(developer, ApiKeyAction.Create)).toBe('allowed');
    expect(verdict(developer, ApiKeyAction.Read, key('usr_other'))).toBe('allowed');
    for (const action of CHANGES) {
      expect(verdict(developer, action, key(MINE))).toBe('allowed');
      expect(verdict(developer, action, key('usr_other'))).toBe('INSUFFICIENT_ROLE');
    }
  });

  it('lets a viewer only read', () => {
    const viewer = { role: Role.Viewer, userId: MINE };
    expect(verdict(viewer, ApiKeyAction.Read, key(MINE))).toBe('allowed');
    expect(verdict(viewer, ApiKeyAction.Create)).toBe('INSUFFICIENT_ROLE');
    for (const action of CHANGES) expect(verdict(viewer, action, key(MINE))).toBe('INSUFFICIENT_ROLE');
  });
});
