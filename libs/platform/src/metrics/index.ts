export * from './metrics.controller';
export * from './metrics.service';
