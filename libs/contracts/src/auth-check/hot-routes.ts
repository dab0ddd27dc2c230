/**
 * The routes every key check of every customer passes through. Per-request
 * machinery that they do not need (request logging, the ORM's request context)
 * is kept off them: on a 2-core box each of those costs a large share of the
 * throughput (measured by `npm run bench:verify`).
 */
export const HOT_ROUTE_PATHS = ['v1/check', 'v1/verify'] as const;

/** Probes and scrapes, equally frequent and equally without need for either. */
export const OPERATIONAL_ROUTE_PATHS = ['health/live', 'health/ready', 'metrics'] as const;
