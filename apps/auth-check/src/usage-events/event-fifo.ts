/**
 * A first-in first-out list with O(1) push, take-from-front and drop-oldest
 * (Array#shift is O(n), which a 200k-event backlog would feel on every emit).
 */
export class EventFifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Removes and returns up to `count` items from the front. */
  take(count: number): T[] {
    const taken = this.items.slice(this.head, this.head + count);
    this.head += taken.length;
    this.compact();
    return taken;
  }

  /** Removes the oldest item; false when there was none. */
  dropOldest(): boolean {
    if (this.length === 0) return false;
    this.head += 1;
    this.compact();
    return true;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4_096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
