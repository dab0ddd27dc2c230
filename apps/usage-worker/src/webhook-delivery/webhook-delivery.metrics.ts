import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';

import { MetricsService } from '@latchkey/platform';

/** What became of one delivery job. */
export type DeliveryOutcome =
  'succeeded' | 'retry' | 'failed' | 'gone' | 'endpoint_disabled' | 'held' | 'rate_limited' | 'throttled' | 'skipped';

@Injectable()
export class WebhookDeliveryMetrics {
  private readonly deliveries: Counter<'outcome'>;
  private readonly duration: Histogram;
  private openBreakers: () => number = () => 0;

  constructor(metrics: MetricsService) {
    this.deliveries = new Counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook delivery jobs by outcome (an HTTP attempt, or a delivery held back by its breaker or rate limit).',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
    this.duration = new Histogram({
      name: 'webhook_delivery_duration_seconds',
      help: 'Duration of webhook HTTP attempts, whatever their result.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [metrics.registry],
    });
    const openBreakers = () => this.openBreakers();
    new Gauge({
      name: 'webhook_breaker_open',
      help: 'Endpoints whose circuit breaker is open or half-open in this process.',
      registers: [metrics.registry],
      collect() {
        this.set(openBreakers());
      },
    });
  }

  countOpenBreakersWith(count: () => number): void {
    this.openBreakers = count;
  }

  outcome(outcome: DeliveryOutcome): void {
    this.deliveries.inc({ outcome });
  }

  attemptDuration(ms: number): void {
    this.duration.observe(ms / 1000);
  }
}
