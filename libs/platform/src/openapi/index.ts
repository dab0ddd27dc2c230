export * from './api-envelope.decorator';
export * from './error-response.dto';
export * from './setup-openapi';
