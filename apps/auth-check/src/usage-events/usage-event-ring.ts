import { UsageColumns, UsageColumnsWriter, UsageEvent } from '@latchkey/contracts';

/** A check's event as emitted; its time is a number until the event is sent (see UsageEventRing). */
export type PendingUsageEvent = Omit<UsageEvent, 'at'>;

const INITIAL_SLOTS = 1_024;
/** Emptied rings bigger than this are dropped (a busy ring empties every batch; this one keeps its slots). */
const SHRINK_ABOVE_SLOTS = 8 * INITIAL_SLOTS;

/**
 * The usage events waiting to be sent, first in first out, kept column by column
 * in a ring that grows as needed: O(1) push, take-from-front and drop-oldest.
 *
 * Why columns and not an array of event objects: an object per check that lives
 * until its batch is sent outlives a young-generation collection often enough that
 * V8 starts allocating such objects (and keeping what they point to) in the old
 * generation: under load, a major collection every few seconds and a p99 far above
 * the bare route's (docs/decisions/0003-usage-batches-as-columns.md). Here a check stores references to strings that already exist
 * (key and org ids, codes) and two numbers; a batch is taken as the queue
 * contract's columns (UsageColumns), small enough to die young as well.
 */
export class UsageEventRing {
  private keyIds: (string | null)[] = [];
  private orgIds: (string | null)[] = [];
  private environments: UsageEvent['environment'][] = [];
  private codes: UsageEvent['code'][] = [];
  private ips: (string | null)[] = [];
  private methods: (string | null)[] = [];
  private paths: (string | null)[] = [];
  private atMs: Float64Array = new Float64Array(0);
  private latenciesUs: Float64Array = new Float64Array(0);
  private slots = 0;
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(event: PendingUsageEvent, atMs: number): void {
    if (this.count === this.slots) this.grow();
    const slot = (this.head + this.count) % this.slots;
    this.keyIds[slot] = event.key_id;
    this.orgIds[slot] = event.org_id;
    this.environments[slot] = event.environment;
    this.codes[slot] = event.code;
    this.ips[slot] = event.ip;
    this.methods[slot] = event.method;
    this.paths[slot] = event.path;
    this.atMs[slot] = atMs;
    this.latenciesUs[slot] = event.latency_us;
    this.count += 1;
  }

  /** Removes up to `count` events from the front and returns them as the queue contract's columns. */
  take(count: number): UsageColumns {
    const taken = new UsageColumnsWriter();
    while (taken.length < count && this.count > 0) {
      const slot = this.head;
      taken.add(
        {
          key_id: this.keyIds[slot],
          org_id: this.orgIds[slot],
          environment: this.environments[slot],
          code: this.codes[slot],
          ip: this.ips[slot],
          method: this.methods[slot],
          path: this.paths[slot],
          latency_us: this.latenciesUs[slot],
        },
        this.atMs[slot],
      );
      this.release(slot);
    }
    return taken.finish();
  }

  /** Removes the oldest event; false when there was none. */
  dropOldest(): boolean {
    if (this.count === 0) return false;
    this.release(this.head);
    return true;
  }

  /** How many slots the ring has now (it grows with a backlog and shrinks once that is sent). */
  get capacity(): number {
    return this.slots;
  }

  /** Forgets a front slot's strings (so the ring keeps nothing alive) and moves past it. */
  private release(slot: number): void {
    this.keyIds[slot] = this.orgIds[slot] = this.ips[slot] = this.methods[slot] = this.paths[slot] = null;
    this.head = (this.head + 1) % this.slots;
    this.count -= 1;
    // A backlog from a Redis outage can grow the ring to 200k slots: let it go once it is sent.
    if (this.count === 0 && this.slots > SHRINK_ABOVE_SLOTS) this.reset();
  }

  private reset(): void {
    this.keyIds = [];
    this.orgIds = [];
    this.environments = [];
    this.codes = [];
    this.ips = [];
    this.methods = [];
    this.paths = [];
    this.atMs = new Float64Array(0);
    this.latenciesUs = new Float64Array(0);
    this.slots = 0;
    this.head = 0;
  }

  /** Doubles the ring, the events in order from slot 0. */
  private grow(): void {
    const slots = Math.max(INITIAL_SLOTS, this.slots * 2);
    const order = Array.from({ length: this.count }, (_, index) => (this.head + index) % this.slots);
    const strings = <T>(column: T[]): T[] => {
      const grown = new Array<T>(slots).fill(null as T);
      order.forEach((slot, index) => (grown[index] = column[slot]));
      return grown;
    };
    const numbers = (column: Float64Array): Float64Array => {
      const grown = new Float64Array(slots);
      order.forEach((slot, index) => (grown[index] = column[slot]));
      return grown;
    };
    this.keyIds = strings(this.keyIds);
    this.orgIds = strings(this.orgIds);
    this.environments = strings(this.environments);
    this.codes = strings(this.codes);
    this.ips = strings(this.ips);
    this.methods = strings(this.methods);
    this.paths = strings(this.paths);
    this.atMs = numbers(this.atMs);
    this.latenciesUs = numbers(this.latenciesUs);
    this.slots = slots;
    this.head = 0;
  }
}
