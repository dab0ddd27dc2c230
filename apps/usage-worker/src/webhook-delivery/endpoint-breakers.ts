import CircuitBreaker from 'opossum';

/** Breakers kept at most; the least recently used is dropped beyond this (it starts closed again if needed). */
export const MAX_BREAKERS = 10_000;

export interface BreakerSettings {
  /** How long a breaker stays open before one trial delivery (half-open). */
  resetTimeoutMs: number;
  /** Failed sends in the rolling window before the error rate is judged at all. */
  volumeThreshold: number;
  errorThresholdPercentage: number;
  rollingCountTimeoutMs: number;
}

type Send<T> = () => Promise<T>;

/**
 * One opossum breaker per endpoint, in a bounded LRU map. The breaker wraps the
 * HTTP send only; the caller decides what a rejection means (hold the delivery
 * without counting an attempt). Opossum's own timeout is off: the sender has its
 * own deadline per attempt.
 */
export class EndpointBreakers {
  private readonly breakers = new Map<string, { breaker: CircuitBreaker<[Send<unknown>], unknown>; openedAt: number }>();

  constructor(
    private readonly settings: BreakerSettings,
    private readonly onChange: (endpointId: string, state: 'open' | 'halfOpen' | 'close') => void = () => undefined,
  ) {}

  /** Runs `send` through the endpoint's breaker; rejects with code EOPENBREAKER when it is open. */
  fire<T>(endpointId: string, send: Send<T>): Promise<T> {
    return this.entry(endpointId).breaker.fire(send) as Promise<T>;
  }

  /** How long to hold a delivery the breaker refused: until it half-opens, or a moment when a trial is in flight. */
  holdMs(endpointId: string): number {
    const entry = this.breakers.get(endpointId);
    const spread = Math.random() * 250;
    if (!entry || !entry.breaker.opened) return Math.min(500, this.settings.resetTimeoutMs) + spread;
    const remaining = entry.openedAt + this.settings.resetTimeoutMs - Date.now();
    return Math.max(remaining, 50) + spread;
  }

  openCount(): number {
    let count = 0;
    for (const { breaker } of this.breakers.values()) if (!breaker.closed) count += 1;
    return count;
  }

  isOpen(endpointId: string): boolean {
    const entry = this.breakers.get(endpointId);
    return entry !== undefined && !entry.breaker.closed;
  }

  shutdown(): void {
    for (const { breaker } of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
  }

  private entry(endpointId: string) {
    const existing = this.breakers.get(endpointId);
    if (existing) {
      // Re-insert: Map order is then least recently used first.
      this.breakers.delete(endpointId);
      this.breakers.set(endpointId, existing);
      return existing;
    }
    const breaker = new CircuitBreaker<[Send<unknown>], unknown>((send: Send<unknown>) => send(), {
      name: endpointId,
      timeout: false,
      resetTimeout: this.settings.resetTimeoutMs,
      volumeThreshold: this.settings.volumeThreshold,
      errorThresholdPercentage: this.settings.errorThresholdPercentage,
      rollingCountTimeout: this.settings.rollingCountTimeoutMs,
      enableSnapshots: false,
      rollingPercentilesEnabled: false,
    });
    const entry = { breaker, openedAt: 0 };
    breaker.on('open', () => {
      entry.openedAt = Date.now();
      this.onChange(endpointId, 'open');
    });
    breaker.on('halfOpen', () => this.onChange(endpointId, 'halfOpen'));
    breaker.on('close', () => this.onChange(endpointId, 'close'));
    this.breakers.set(endpointId, entry);
    while (this.breakers.size > MAX_BREAKERS) {
      const [oldestId, oldest] = this.breakers.entries().next().value as [string, typeof entry];
      oldest.breaker.shutdown();
      this.breakers.delete(oldestId);
    }
    return entry;
  }
}

export function isBreakerRejection(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'EOPENBREAKER';
}
