/** What an informer loop writes to: the whole store, or the part of it one namespace's loop owns. */
export interface LoopStore<T> {
  readonly size: number;
  set(key: string, item: T): void;
  delete(key: string): void;
  /** Replaces every item this store owns with `entries`. */
  replace(entries: Iterable<[string, T]>): void;
  /** Removes every item this store owns. */
  clear(): void;
}

/** Objects of one kind keyed by "namespace/name", with one optional secondary index kept up to date on every change. */
export class IndexedStore<T> implements LoopStore<T> {
  private readonly items = new Map<string, T>();
  private readonly index = new Map<string, Map<string, T>>();
  private readonly indexKeys = new Map<string, string[]>();
  private gen = 0;

  constructor(private readonly indexBy?: (item: T) => string[]) {}

  /** Changes on every write: lets callers cache what they derive from the store. */
  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  /** Items whose index function returned `indexKey`. */
  byIndex(indexKey: string): T[] {
    return [...(this.index.get(indexKey)?.values() ?? [])];
  }

  set(key: string, item: T): void {
    this.gen++;
    this.delete(key);
    this.items.set(key, item);
    if (!this.indexBy) return;
    const keys = [...new Set(this.indexBy(item))];
    this.indexKeys.set(key, keys);
    for (const k of keys) {
      let m = this.index.get(k);
      if (!m) this.index.set(k, (m = new Map()));
      m.set(key, item);
    }
  }

  delete(key: string): void {
    if (!this.items.delete(key)) return;
    this.gen++;
    for (const k of this.indexKeys.get(key) ?? []) {
      const m = this.index.get(k);
      m?.delete(key);
      if (m && m.size === 0) this.index.delete(k);
    }
    this.indexKeys.delete(key);
  }

  replace(entries: Iterable<[string, T]>): void {
    this.clear();
    for (const [k, v] of entries) this.set(k, v);
  }

  clear(): void {
    this.gen++;
    this.items.clear();
    this.index.clear();
    this.indexKeys.clear();
  }

  /**
   * The items of one namespace (keys "namespace/…") as a store of their own: its replace and clear leave the other
   * namespaces alone, so several per-namespace loops can feed one store.
   */
  partition(namespace: string): LoopStore<T> {
    const prefix = `${namespace}/`;
    const owned = () => [...this.items.keys()].filter((k) => k.startsWith(prefix));
    const clear = () => {
      for (const k of owned()) this.delete(k);
    };
    return {
      get size() {
        return owned().length;
      },
      set: (key, item) => this.set(key, item),
      delete: (key) => this.delete(key),
      replace: (entries) => {
        const next = new Map(entries);
        for (const k of owned()) if (!next.has(k)) this.delete(k);
        for (const [k, v] of next) this.set(k, v);
      },
      clear,
    };
  }
}
