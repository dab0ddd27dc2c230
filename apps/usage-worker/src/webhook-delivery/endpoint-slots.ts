/**
 * Sends in flight per endpoint in this process. A fast endpoint frees its slots in
 * milliseconds, so a job that finds them taken waits in-process for one. An
 * endpoint whose slots are all taken and that has finished nothing for `stuckMs`
 * is slow or hanging: its jobs step aside at once (the caller puts them back as
 * delayed), so they never sit in the worker's slots that everyone else needs.
 */
export class EndpointSlots {
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  /** When each busy endpoint last started from idle or finished a send. */
  private readonly progressAt = new Map<string, number>();

  constructor(
    private readonly perEndpoint: number,
    private readonly stuckMs: number,
  ) {}

  /** True once a slot is taken (call release); false if the endpoint is stuck or none freed up within waitMs. */
  async acquire(endpointId: string, waitMs: number): Promise<boolean> {
    if (this.tryTake(endpointId)) return true;
    if (Date.now() - (this.progressAt.get(endpointId) ?? 0) >= this.stuckMs) return false;
    return new Promise<boolean>((resolve) => {
      const queue = this.waiting.get(endpointId) ?? [];
      const wake = () => {
        clearTimeout(timer);
        resolve(this.tryTake(endpointId));
      };
      const timer = setTimeout(() => {
        const list = this.waiting.get(endpointId);
        const index = list?.indexOf(wake) ?? -1;
        if (list && index >= 0) list.splice(index, 1);
        if (list?.length === 0) this.waiting.delete(endpointId);
        resolve(false);
      }, waitMs);
      queue.push(wake);
      this.waiting.set(endpointId, queue);
    });
  }

  release(endpointId: string): void {
    const left = (this.busy.get(endpointId) ?? 1) - 1;
    if (left <= 0) {
      this.busy.delete(endpointId);
      this.progressAt.delete(endpointId);
    } else {
      this.busy.set(endpointId, left);
      this.progressAt.set(endpointId, Date.now());
    }
    const queue = this.waiting.get(endpointId);
    const next = queue?.shift();
    if (queue?.length === 0) this.waiting.delete(endpointId);
    next?.();
  }

  private tryTake(endpointId: string): boolean {
    const taken = this.busy.get(endpointId) ?? 0;
    if (taken >= this.perEndpoint) return false;
    if (taken === 0) this.progressAt.set(endpointId, Date.now());
    this.busy.set(endpointId, taken + 1);
    return true;
  }
}
