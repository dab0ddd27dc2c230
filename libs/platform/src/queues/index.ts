export * from './close-bullmq';
export * from './with-deadline';
export * from './create-queue';
export * from './worker-host';
export * from './job-scheduler';
export * from './bull-connection';
