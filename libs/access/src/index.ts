export * from './access.decorators';
export * from './browser-session';
export { AccessGuard } from './access.guard';
export { AccessModule } from './access.module';
export * from './session-token';
export * from './management-key.decorators';
export { canonicalCidr, isAddressAllowed } from './ip-allowlist';
export { LAST_USED_RESOLUTION_MS } from './management-key-auth';
export { ROLE_RULES, canManageRole } from './role-rules';
