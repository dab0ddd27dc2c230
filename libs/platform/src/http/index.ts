export * from './client-ip';
export * from './envelope.interceptor';
export * from './raw-response.decorator';
export * from './request-id';
export * from './public.decorator';
export * from './principal';
export * from './page-query.dto';
export * from './dto-transforms';
