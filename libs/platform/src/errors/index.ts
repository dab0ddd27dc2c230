export * from './all-exceptions.filter';
export * from './app-error';
export * from './error-envelope';
export * from './to-app-error';
export * from './validation.pipe';
export * from './json-schema-parser';
