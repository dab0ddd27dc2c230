/**
 * Reads samples out of a Prometheus text exposition (GET /metrics), as a scraper
 * would: the sum of `name`'s samples whose labels include `labels`.
 */
export function metricSum(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const sampleLabels: Record<string, string> = {};
    for (const [, label, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) sampleLabels[label] = value;
    if (Object.entries(labels).every(([label, value]) => sampleLabels[label] === value)) sum += Number(match[3]);
  }
  return sum;
}
