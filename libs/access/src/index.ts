export * from './access.decorators';
export { AccessGuard } from './access.guard';
export { AccessModule } from './access.module';
export * from './session-token';
export { ROLE_RULES, canManageRole } from './role-rules';
