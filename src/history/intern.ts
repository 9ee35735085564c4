/**
 * A table of interned values with reference counts: equal values (by key) share one id and one stored copy; an entry
 * whose last reference is released is dropped and its id reused, so a table never outgrows what is referenced.
 */
interface Entry<V> {
  key: string;
  value: V;
  refs: number;
}

export class InternTable<V> {
  /** Made with the first entry: a ring without cluster metadata never fills its cluster table (a Map costs ~180 bytes). */
  private ids: Map<string, number> | undefined;
  /** By id; one array of entries, not one array per field: a table holds a handful, and each array has its own slack. */
  private readonly entries: (Entry<V> | undefined)[] = [];
  private free: number[] | undefined;

  /** Number of live entries. */
  get size(): number {
    return this.ids?.size ?? 0;
  }

  /** Ids handed out so far, live or free for reuse. */
  get allocated(): number {
    return this.entries.length;
  }

  /** The id of `key` with one more reference, making its value with `make` when the key is new. */
  intern(key: string, make: () => V): number {
    const known = this.ids?.get(key);
    if (known !== undefined) {
      this.entries[known]!.refs++;
      return known;
    }
    const id = this.free?.length ? this.free.pop()! : this.entries.length;
    (this.ids ??= new Map()).set(key, id);
    this.entries[id] = { key, value: make(), refs: 1 };
    return id;
  }

  /** One more reference to a live id. */
  ref(id: number): void {
    this.entries[id]!.refs++;
  }

  /** Drops one reference; returns the value when that was the last one (the entry is gone, its id free). */
  release(id: number): V | undefined {
    const e = this.entries[id]!;
    if (--e.refs > 0) return undefined;
    this.ids!.delete(e.key);
    this.entries[id] = undefined;
    (this.free ??= []).push(id);
    return e.value;
  }

  /** The id of a live key, without taking a reference. */
  idOf(key: string): number | undefined {
    return this.ids?.get(key);
  }

  /** The value of a live id. */
  value(id: number): V {
    return this.entries[id]?.value as V;
  }

  /** The value of an id that may be gone or -1 (none). */
  peek(id: number): V | undefined {
    return id >= 0 ? this.entries[id]?.value : undefined;
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
