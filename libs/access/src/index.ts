export * from './access.decorators';
export * from './browser-session';
export { AccessGuard } from './access.guard';
export { AccessModule } from './access.module';
export * from './session-token';
export * from './management-key.decorators';
export { LAST_USED_RESOLUTION_MS } from './management-key-auth';
export { MANAGEMENT_KEY_FAILURE_WINDOW_SECONDS, MANAGEMENT_KEY_MAX_FAILURES_PER_ADDRESS } from './management-key-throttle';
export { ROLE_RULES, canManageRole } from './role-rules';
