import { Histogram, Registry } from 'prom-client';

type Labels = Record<string, string>;

/** One exposition row, as prom-client's registry reads it from a metric's `get()`. */
export interface DurationRow {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** One label set's tallies: a count per bucket (not yet cumulative), their sum and count. */
export class DurationSeries {
  private readonly perBucket: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly labels: Readonly<Labels>,
    private readonly bounds: readonly number[],
  ) {
    this.perBucket = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    // A duration from a monotonic clock is never negative, NaN or infinite; one that is
    // would corrupt the sum for good (prom-client throws on it), so it is not counted.
    if (!Number.isFinite(seconds) || seconds < 0) return;
    this.sum += seconds;
    this.count += 1;
    const bounds = this.bounds;
    for (let index = 0; index < bounds.length; index += 1) {
      if (seconds <= bounds[index]) {
        this.perBucket[index] += 1;
        return;
      }
    }
  }

  reset(): void {
    this.perBucket.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** prom-client's exposition rows: cumulative buckets, +Inf, sum and count. */
  values(name: string): DurationRow[] {
    const rows: DurationRow[] = [];
    let cumulative = 0;
    this.bounds.forEach((bound, index) => {
      cumulative += this.perBucket[index];
      rows.push({ metricName: `${name}_bucket`, labels: { ...this.labels, le: bound }, value: cumulative });
    });
    rows.push(
      { metricName: `${name}_bucket`, labels: { ...this.labels, le: '+Inf' }, value: this.count },
      { metricName: `${name}_sum`, labels: { ...this.labels }, value: this.sum },
      { metricName: `${name}_count`, labels: { ...this.labels }, value: this.count },
    );
    return rows;
  }
}

/**
 * A histogram of durations whose series are handles, made once per label set. It
 * exists for one metric observed on every request: prom-client's `observe` checks
 * the label names, hashes the label set into a string and finds the bucket through
 * float-keyed object properties on every call, a visible share of a cached key
 * check's CPU (docs/decisions/0006-duration-histogram.md); a handle's `observe` is a
 * loop over the bounds. prom-client's registry still serves it (it asks a metric only for
 * name, help, type, aggregator and `get()`, and `reset()` on resetMetrics), with the
 * samples a prom-client Histogram would expose; but `reset()` zeroes the series rather
 * than forgetting them, and it is not a prom-client Histogram: `getSingleMetric` gives
 * no `labels()` or `observe(labels, value)`.
 */
export class DurationHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, DurationSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    if (bounds.some((bound, index) => index > 0 && bound <= bounds[index - 1])) throw new Error(`${name}: bounds must increase`);
  }

  /** Registers it like a prom-client metric (the registry's type names only prom-client's classes). */
  registerIn(registry: Registry): this {
    registry.registerMetric(this as unknown as Histogram);
    return this;
  }

  /** The handle of one label set; keep it, as each call builds a key to find it. */
  seriesOf(labels: Labels): DurationSeries {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let series = this.series.get(key);
    if (!series) {
      series = new DurationSeries({ ...labels }, this.bounds);
      this.series.set(key, series);
    }
    return series;
  }

  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: DurationRow[] }> {
    const values = [...this.series.values()].flatMap((series) => series.values(this.name));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Zeroes every series (handles stay valid: callers keep them). */
  reset(): void {
    this.series.forEach((series) => series.reset());
  }
}
