export * from './public-address';
export * from './ip-range';
