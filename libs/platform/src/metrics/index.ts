export * from './metrics.controller';
export * from './metrics.service';
export * from './duration-histogram';
