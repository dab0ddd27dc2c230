import { Histogram, Registry } from 'prom-client';

import { DurationHistogram } from './duration-histogram';

const BOUNDS = [0.001, 0.01, 0.1, 1];

/** `name{label="value",…} value` lines of an exposition, labels sorted, so two expositions compare as sets. */
function samples(exposition: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    found.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return found;
}

async function exposition(observe: (metric: { observe(labels: Record<string, string>, seconds: number): void }) => void) {
  const ours = new Registry();
  const histogram = new DurationHistogram('request_seconds', 'How long.', BOUNDS).registerIn(ours);
  observe({ observe: (labels, seconds) => histogram.seriesOf(labels).observe(seconds) });

  const theirs = new Registry();
  const reference = new Histogram({
    name: 'request_seconds',
    help: 'How long.',
    labelNames: ['route', 'status'],
    buckets: BOUNDS,
    registers: [theirs],
  });
  observe({ observe: (labels, seconds) => reference.observe(labels, seconds) });
  return { ours: await ours.metrics(), theirs: await theirs.metrics() };
}

describe('DurationHistogram', () => {
  it('exposes the samples a prom-client Histogram exposes for the same observations', async () => {
    const { ours, theirs } = await exposition((metric) => {
      for (const seconds of [0.0004, 0.001, 0.002, 0.05, 0.5, 3, 0, 0.01]) metric.observe({ route: '/v1/check', status: '200' }, seconds);
      metric.observe({ route: '/v1/check', status: '401' }, 0.02);
      metric.observe({ status: '200', route: '/v1/verify' }, 7);
    });

    expect(ours).toContain('# TYPE request_seconds histogram');
    expect(ours).toContain('# HELP request_seconds How long.');
    expect(samples(ours)).toEqual(samples(theirs));
    // Spot checks of the shared reading: cumulative buckets, +Inf, sum and count.
    const read = samples(ours);
    expect(read.get('request_seconds_bucket{le="0.001",route="/v1/check",status="200"}')).toBe(3);
    expect(read.get('request_seconds_bucket{le="+Inf",route="/v1/check",status="200"}')).toBe(8);
    expect(read.get('request_seconds_count{route="/v1/verify",status="200"}')).toBe(1);
    expect(read.get('request_seconds_sum{route="/v1/check",status="401"}')).toBeCloseTo(0.02);
  });

  it('gives one series to a label set whatever the order of its labels', async () => {
    const histogram = new DurationHistogram('request_seconds', 'How long.', BOUNDS);
    const first = histogram.seriesOf({ route: '/a', status: '200' });
    expect(histogram.seriesOf({ status: '200', route: '/a' })).toBe(first);
    expect(histogram.seriesOf({ route: '/a', status: '500' })).not.toBe(first);
  });

  it('ignores a duration that is not a finite number of seconds ≥ 0', async () => {
    const registry = new Registry();
    const histogram = new DurationHistogram('request_seconds', 'How long.', BOUNDS).registerIn(registry);
    const series = histogram.seriesOf({ route: '/a' });
    series.observe(Number.NaN);
    series.observe(-1);
    series.observe(Number.POSITIVE_INFINITY);
    series.observe(0.5);
    const read = samples(await registry.metrics());
    expect(read.get('request_seconds_count{route="/a"}')).toBe(1);
    expect(read.get('request_seconds_sum{route="/a"}')).toBe(0.5);
  });

  it('zeroes on reset, and the handles taken before keep counting', async () => {
    const registry = new Registry();
    const histogram = new DurationHistogram('request_seconds', 'How long.', BOUNDS).registerIn(registry);
    const series = histogram.seriesOf({ route: '/a' });
    series.observe(0.5);
    registry.resetMetrics();
    expect(samples(await registry.metrics()).get('request_seconds_count{route="/a"}')).toBe(0);
    series.observe(0.05);
    const read = samples(await registry.metrics());
    expect(read.get('request_seconds_count{route="/a"}')).toBe(1);
    expect(read.get('request_seconds_bucket{le="0.01",route="/a"}')).toBe(0);
    expect(read.get('request_seconds_bucket{le="0.1",route="/a"}')).toBe(1);
  });

  it('refuses bounds that do not increase', () => {
    expect(() => new DurationHistogram('request_seconds', 'How long.', [0.1, 0.1])).toThrow('bounds must increase');
  });
});
