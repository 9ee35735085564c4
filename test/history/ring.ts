/** A fixed-capacity ring buffer: the oldest entry is overwritten once full. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.items = new Array(capacity);
  }

  /** Adds an entry; returns the one it overwrote, if the ring was full. */
  push(item: T): T | undefined {
    const evicted = this.count === this.capacity ? this.items[this.head] : undefined;
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    return evicted;
  }

  get size(): number {
    return this.count;
  }

  /** Newest entry, or undefined when empty. */
  last(): T | undefined {
    return this.count ? this.items[(this.head - 1 + this.capacity) % this.capacity] : undefined;
  }

  /** The newest `n` entries (all when omitted), oldest first. */
  toArray(n = this.count): T[] {
    const k = Math.min(n, this.count);
    const out: T[] = new Array(k);
    for (let i = 0; i < k; i++) out[i] = this.items[(this.head - k + i + this.capacity) % this.capacity] as T;
    return out;
  }

  /** Entries with `predicate` true, scanning from the newest backwards until it returns false; oldest first. */
  takeWhileNewest(predicate: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = 1; i <= this.count; i++) {
      const item = this.items[(this.head - i + this.capacity) % this.capacity] as T;
      if (!predicate(item)) break;
      out.push(item);
    }
    return out.reverse();
  }
}
