/**
 * Unsigned counters, 16 bits each until one would pass 65,535, then all of them 32 bits (once, copied): exact counts
 * at half the memory while they stay small, as per-bucket attempt counts do at any interval a target is probed at.
 */
export class Counters {
  private a: Uint16Array | Uint32Array;

  constructor(readonly length: number) {
    this.a = new Uint16Array(length);
  }

  get(i: number): number {
    return this.a[i]!;
  }

  set(i: number, v: number): void {
    if (v > 0xffff && this.a.BYTES_PER_ELEMENT === 2) this.a = Uint32Array.from(this.a);
    this.a[i] = v;
  }

  increment(i: number): void {
    this.set(i, this.a[i]! + 1);
  }

  /** Bytes held (for the figures in docs and tests). */
  get byteLength(): number {
    return this.a.byteLength;
  }
}
