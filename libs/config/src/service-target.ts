/**
 * The deployable services. `TARGET` picks any set of them for one process
 * (`all` = every one), as Grafana Mimir's `-target` does.
 */
export const ServiceTarget = {
  OrgApi: 'org-api',
  KeyIssuer: 'key-issuer',
  AuthCheck: 'auth-check',
  UsageWorker: 'usage-worker',
} as const;
export type ServiceTarget = (typeof ServiceTarget)[keyof typeof ServiceTarget];

export const ALL_TARGETS: readonly ServiceTarget[] = Object.values(ServiceTarget);

export function parseTargets(raw: string): ServiceTarget[] | string {
  const names = raw
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0 || names.includes('all')) {
    return [...ALL_TARGETS];
  }
  const unknown = names.filter((name) => !ALL_TARGETS.includes(name as ServiceTarget));
  if (unknown.length > 0) {
    return `unknown target(s) ${unknown.join(', ')}; expected all or ${ALL_TARGETS.join(', ')}`;
  }
  return [...new Set(names as ServiceTarget[])];
}
