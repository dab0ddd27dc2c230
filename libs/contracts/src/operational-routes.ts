/**
 * Probes and scrapes: called every few seconds by every orchestrator and Prometheus,
 * and never in need of a request log line or the ORM's request context, so the logger
 * and libs/db keep both off them. (The key checks need no such list: the front door
 * answers them before any Nest middleware runs.)
 */
export const OPERATIONAL_ROUTE_PATHS = ['health/live', 'health/ready', 'metrics'] as const;
