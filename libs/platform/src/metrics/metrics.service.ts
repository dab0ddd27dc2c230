import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per application instance (not prom-client's global one),
 * so several instances in one process — as in tests — never collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Each series' handle by `method route status`, made once: this runs on every request, and
   * the handle spares a labels object, a closure and a status string per call.
   */
  private readonly httpSeries = new Map<string, Histogram.Internal<'method' | 'route' | 'status_code'>>();

  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    const name = `${method} ${route} ${statusCode}`;
    let series = this.httpSeries.get(name);
    if (!series) {
      series = this.httpRequestDuration.labels({ method, route, status_code: String(statusCode) });
      this.httpSeries.set(name, series);
    }
    series.observe(seconds);
  }
}
