/**
 * A table of interned values with reference counts: equal values (by key) share one id and one stored copy; an entry
 * whose last reference is released is dropped and its id reused, so a table never outgrows what is referenced.
 */
export class InternTable<V> {
  private readonly ids = new Map<string, number>();
  private readonly keys: (string | undefined)[] = [];
  private readonly values: (V | undefined)[] = [];
  private readonly refs: number[] = [];
  private readonly free: number[] = [];

  /** Number of live entries. */
  get size(): number {
    return this.ids.size;
  }

  /** Ids handed out so far, live or free for reuse. */
  get allocated(): number {
    return this.refs.length;
  }

  /** The id of `key` with one more reference, making its value with `make` when the key is new. */
  intern(key: string, make: () => V): number {
    const known = this.ids.get(key);
    if (known !== undefined) {
      this.refs[known]!++;
      return known;
    }
    const id = this.free.length ? this.free.pop()! : this.refs.length;
    this.ids.set(key, id);
    this.keys[id] = key;
    this.values[id] = make();
    this.refs[id] = 1;
    return id;
  }

  /** One more reference to a live id. */
  ref(id: number): void {
    this.refs[id]!++;
  }

  /** Drops one reference; returns the value when that was the last one (the entry is gone, its id free). */
  release(id: number): V | undefined {
    if (--this.refs[id]! > 0) return undefined;
    const v = this.values[id];
    this.ids.delete(this.keys[id]!);
    this.keys[id] = undefined;
    this.values[id] = undefined;
    this.free.push(id);
    return v;
  }

  /** The id of a live key, without taking a reference. */
  idOf(key: string): number | undefined {
    return this.ids.get(key);
  }

  /** The value of a live id. */
  value(id: number): V {
    return this.values[id] as V;
  }

  /** The value of an id that may be gone or -1 (none). */
  peek(id: number): V | undefined {
    return id >= 0 ? this.values[id] : undefined;
  }
}

/**
 * An unambiguous key part for a primitive (the type is part of it, strings are length-prefixed, -0 is not 0);
 * undefined for a value that is not a string, number, boolean or undefined.
 */
export function keyPart(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return `s${v.length}:${v}`;
    case 'number':
      return Object.is(v, -0) ? 'n-0' : `n${v}`;
    case 'boolean':
      return v ? 'T' : 'F';
    case 'undefined':
      return 'u';
    default:
      return undefined;
  }
}
