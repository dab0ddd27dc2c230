export * from './idempotency.interceptor';
export * from './idempotency-janitor.service';
