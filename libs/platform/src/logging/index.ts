export * from './describe-db-error';
export * from './log-redaction';
export * from './logger.module';
