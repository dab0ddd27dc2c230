import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

import { DurationHistogram, DurationSeries } from './duration-histogram';

/**
 * One Prometheus registry per application instance (not prom-client's global one),
 * so several instances in one process — as in tests — never collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly httpRequestDuration = new DurationHistogram(
    'http_request_duration_seconds',
    'HTTP request duration by method, route and status code.',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  ).registerIn(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Each series' handle by method, route and status, made once: this runs on every request.
   * Nested maps rather than one key, so no string is built per call.
   */
  private readonly httpSeries = new Map<string, Map<string, Map<number, DurationSeries>>>();

  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    let byRoute = this.httpSeries.get(method);
    if (!byRoute) this.httpSeries.set(method, (byRoute = new Map<string, Map<number, DurationSeries>>()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map<number, DurationSeries>()));
    let series = byStatus.get(statusCode);
    if (!series) {
      series = this.httpRequestDuration.seriesOf({ method, route, status_code: String(statusCode) });
      byStatus.set(statusCode, series);
    }
    series.observe(seconds);
  }
}
