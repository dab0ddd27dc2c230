export * from './close-bullmq';
export * from './with-deadline';
