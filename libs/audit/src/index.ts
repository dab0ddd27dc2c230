export * from './audit-actor';
export { AuditModule } from './audit.module';
export { AuditEntry, AuditService } from './audit.service';
export { redactSecrets } from './redact-secrets';
