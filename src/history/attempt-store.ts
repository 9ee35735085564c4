/**
 * A fixed-capacity ring of attempts in columnar form, 17 bytes an attempt (tcp, no cluster metadata) to 29 (https
 * with it): startedAt (uint32 ms from a base the store moves when time runs past it), up to four timings (uint32
 * microseconds, a column each, allocated when the first attempt has that timing: a tcp target never holds tls or
 * first-byte columns), source port (uint16), metadata age (uint32 ms, only once a context has one), an interned shape
 * id and a flag byte. seq is not stored: it is contiguous when assigned by nextSeq, so it follows from the position (a
 * seq that breaks the run is kept aside). Attempt objects are built, frozen, only when read, deep-equal to what was
 * recorded (optional keys absent or undefined as they were). What the compact form cannot hold exactly (a timing that
 * is not a whole number of microseconds, a start that is not a whole ms, an unknown key, a value of another type) is
 * kept aside, per field or, for an attempt of another shape altogether, as the recorded object itself.
 */
import type { Attempt, AttemptClusterContext } from './attempt.js';
import {
  boolsOf, isBurst, isOk, isStalled, isSyn, makeShape, presenceOf, sameShape, shapeKey, type Shape,
  P_BACKEND, P_BACKEND_NODE, P_CERT, P_CLUSTER, P_CONNECT, P_DETAIL, P_ERROR_CODE, P_FIRST_BYTE, P_HTTP_STATUS, P_REASON, P_REMOTE, P_SOURCE_PORT, P_TLS,
} from './attempt-shape.js';
import { C_AGE, clusterKey, clusterMatches, makeClusterEntry, materialiseCluster, type ClusterEntry } from './cluster-entry.js';
import { InternTable } from './intern.js';

// Flag byte per slot.
/** The seq is not the previous attempt's + 1: both are kept in `irregular`. */
const IRREGULAR = 1;
/** The recorded object itself is kept in `verbatim`. */
const VERBATIM = 2;
/** Some number did not fit its column: kept in `exceptions`. */
const EXCEPTIONS = 4;
/** sourcePort is present and undefined. */
const PORT_UNDEFINED = 8;

const U32_UNDEFINED = 0xffffffff;
const U32_EXCEPTION = 0xfffffffe;
const U32_MAX = 0xfffffffd;

// Fields of `exceptions` keys (slot * 8 + field).
const F_CONNECT = 0;
const F_TLS = 1;
const F_FIRST_BYTE = 2;
const F_TOTAL = 3;
const F_PORT = 4;
const F_AGE = 5;
const F_START = 6;

/** startedAt offsets are kept this far either side of the base: 24.8 days. */
const START_HALF_RANGE = 2 ** 31;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Every optional key of a probe result: what the probers always set (many of them undefined). */
const PROBER_KEYS = P_REASON | P_DETAIL | P_ERROR_CODE | P_SOURCE_PORT | P_REMOTE | P_HTTP_STATUS | P_BACKEND | P_CERT;
const ALL_TIMINGS = P_CONNECT | P_TLS | P_FIRST_BYTE;
/** The timing keys by column (F_CONNECT, F_TLS, F_FIRST_BYTE, F_TOTAL). */
const TIMING_KEYS = ['connectMs', 'tlsMs', 'firstByteMs', 'totalMs'] as const;

export class AttemptStore {
  // Every column is a view of one ArrayBuffer (a buffer each would cost its own object and native store, about as much
  // as a 350-attempt column), made at the first push with the columns that attempt needs (a target's attempts mostly
  // share their timings): a column needed later moves them all into a new buffer (columns() below). Growing a buffer
  // two or three times per target left as many freed blocks of every size in the allocator's heap.
  /** startedAt - startBase per slot (whole ms), or U32_EXCEPTION. */
  private starts!: Uint32Array;
  private startBase: number | undefined;
  /** connectMs, tlsMs, firstByteMs, totalMs, a column each in microseconds; undefined until a value needs it. */
  private readonly timings: (Uint32Array | undefined)[] = [undefined, undefined, undefined, undefined];
  private ports!: Uint16Array;
  /** cluster.metadataAgeMs per slot, allocated when the first context with one is recorded. */
  private ages: Uint32Array | undefined;
  private shapeIds!: Uint16Array | Uint32Array;
  private flags!: Uint8Array;
  private readonly shapes = new InternTable<Shape>();
  private readonly clusters = new InternTable<ClusterEntry>();
  private verbatim: Map<number, Attempt> | undefined;
  private irregular: Map<number, { seq: number; prev: number }> | undefined;
  private exceptions: Map<number, number | undefined> | undefined;
  private head = 0;
  private count = 0;
  private newestSeq = 0;
  private oldest = 0;
  /** Shapes recorded lately (an http target's backends take turns): checked before a shape's key is built. */
  private readonly recentShapes = [-1, -1, -1, -1];
  private nextRecent = 0;
  private lastCluster = -1;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
  }

  /** The columns for the first attempt: the fixed ones, its timings, and ages when its cluster context has one. */
  private firstColumns(a: Attempt): void {
    const t = (typeof a.timings === 'object' && a.timings !== null ? a.timings : {}) as Record<string, unknown>;
    const timings = TIMING_KEYS.flatMap((k, f) => (typeof t[k] === 'number' ? [f] : []));
    const c = this.columns(timings, typeof a.cluster === 'object' && a.cluster !== null && 'metadataAgeMs' in a.cluster);
    this.adopt(c);
  }

  /**
   * Views of a new buffer holding the fixed columns, the timing columns in `timings` and the ages column when `ages`,
   * with what the current columns hold copied in (new timing columns read as no value). Widest first: every view is
   * aligned.
   */
  private columns(timings: number[], ages: boolean) {
    const cap = this.capacity;
    // At most capacity + 1 shapes are live (the new one is interned before the evicted one is released).
    const wideIds = cap >= 0xffff;
    const buf = new ArrayBuffer(cap * (4 * (1 + timings.length + (ages ? 1 : 0) + (wideIds ? 1 : 0)) + (wideIds ? 0 : 2) + 2 + 1));
    let at = 0;
    const u32 = (from: Uint32Array | undefined, fill?: number) => {
      const v = new Uint32Array(buf, at, cap);
      at += 4 * cap;
      if (from) v.set(from);
      else if (fill !== undefined) v.fill(fill);
      return v;
    };
    const starts = u32(this.starts);
    const cols: (Uint32Array | undefined)[] = [undefined, undefined, undefined, undefined];
    for (const f of timings) cols[f] = u32(this.timings[f], U32_UNDEFINED);
    const ageCol = ages ? u32(this.ages) : undefined;
    const shapeIds = wideIds ? u32(this.shapeIds as Uint32Array | undefined) : new Uint16Array(buf, at, cap);
    if (!wideIds) {
      if (this.shapeIds) shapeIds.set(this.shapeIds);
      at += 2 * cap;
    }
    const ports = new Uint16Array(buf, at, cap);
    if (this.ports) ports.set(this.ports);
    at += 2 * cap;
    const flags = new Uint8Array(buf, at, cap);
    if (this.flags) flags.set(this.flags);
    return { starts, timings: cols, ages: ageCol, shapeIds, ports, flags };
  }

  /** Moves every column into a buffer that also holds timing column `field` or (-1) the ages column. */
  private addColumn(field: number): void {
    const timings = [0, 1, 2, 3].filter((f) => f === field || this.timings[f] !== undefined);
    this.adopt(this.columns(timings, field < 0 || this.ages !== undefined));
  }

  private adopt(c: ReturnType<AttemptStore['columns']>): void {
    this.starts = c.starts;
    for (let f = 0; f < 4; f++) this.timings[f] = c.timings[f];
    this.ages = c.ages;
    this.shapeIds = c.shapeIds;
    this.ports = c.ports;
    this.flags = c.flags;
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** seq of the newest attempt (0 when empty). */
  get lastSeq(): number {
    return this.newestSeq;
  }

  /** seq of the oldest attempt, the one the next push evicts when full. */
  get oldestSeq(): number {
    return this.oldest;
  }

  /** The node that served the oldest attempt, when it is a success with a backendNode. */
  oldestServedBy(): string | undefined {
    if (!this.count) return undefined;
    const slot = (this.head - this.count + this.capacity) % this.capacity;
    if (this.flags[slot]! & VERBATIM) {
      const a = this.verbatim!.get(slot)!;
      return a.ok && a.backendNode !== undefined ? a.backendNode : undefined;
    }
    const s = this.shapes.value(this.shapeIds[slot]!);
    return isOk(s) && s.backendNode !== undefined ? s.backendNode : undefined;
  }

  /** Bytes of the typed-array columns allocated (what the ring costs besides its interned and aside entries). */
  columnBytes(): number {
    return this.starts?.buffer.byteLength ?? 0;
  }

  /** Live interned entries (for tests: they return to their size after churn). */
  tableSizes(): { shapes: number; clusters: number } {
    return { shapes: this.shapes.size, clusters: this.clusters.size };
  }

  /** Ids handed out by the interning tables (they are reused, so this stays within what is held at once). */
  idsAllocated(): { shapes: number; clusters: number } {
    return { shapes: this.shapes.allocated, clusters: this.clusters.allocated };
  }

  push(a: Attempt): void {
    if (!this.flags) this.firstColumns(a);
    const slot = this.head;
    const wasFull = this.count === this.capacity;
    if (wasFull) this.clear(slot);
    let f = 0;
    const seq = a.seq;
    if (this.count > 0 && !(Number.isSafeInteger(seq) && Number.isSafeInteger(this.newestSeq) && seq === this.newestSeq + 1)) {
      f |= IRREGULAR;
      (this.irregular ??= new Map()).set(slot, { seq, prev: this.newestSeq });
    }
    f |= this.encode(a, slot);
    this.flags[slot] = f;
    if (this.count === 0) this.oldest = seq;
    this.newestSeq = seq;
    this.head = (slot + 1) % this.capacity;
    if (!wasFull) this.count++;
    else if (this.head === slot) this.oldest = seq;
    else this.oldest = this.flags[this.head]! & IRREGULAR ? this.irregular!.get(this.head)!.seq : this.oldest + 1;
  }

  /** Newest attempt, or undefined when empty. */
  last(): Attempt | undefined {
    return this.count ? this.materialise((this.head - 1 + this.capacity) % this.capacity, this.newestSeq) : undefined;
  }

  /** The newest `n` attempts (all when omitted), oldest first. */
  toArray(n = this.count): Attempt[] {
    return this.newest(Math.min(n, this.count));
  }

  /** The newest attempts that started at or after `from`, scanning back until one did not; oldest first. */
  since(from: number): Attempt[] {
    let k = 0;
    let slot = this.head;
    while (k < this.count) {
      slot = slot === 0 ? this.capacity - 1 : slot - 1;
      const at = this.flags[slot]! & VERBATIM ? this.verbatim!.get(slot)!.startedAt : this.startOf(slot);
      if (!(at >= from)) break;
      k++;
    }
    return this.newest(k);
  }

  private newest(k: number): Attempt[] {
    const out: Attempt[] = new Array(k);
    let slot = (this.head - 1 + this.capacity) % this.capacity;
    let seq = this.newestSeq;
    for (let i = k - 1; i >= 0; i--) {
      out[i] = this.materialise(slot, seq);
      seq = this.flags[slot]! & IRREGULAR ? this.irregular!.get(slot)!.prev : seq - 1;
      slot = slot === 0 ? this.capacity - 1 : slot - 1;
    }
    return out;
  }

  /** Writes `a` into `slot`; returns the flag bits it needs. */
  private encode(a: Attempt, slot: number): number {
    const p = presenceOf(a);
    const c = a.cluster;
    let cluster = -1;
    let newCluster = false;
    if (p >= 0 && c !== undefined) {
      if (clusterMatches(this.clusters.peek(this.lastCluster), c)) cluster = this.lastCluster;
      else {
        const key = clusterKey(c);
        if (key !== undefined) {
          const known = this.clusters.idOf(key);
          newCluster = known === undefined;
          cluster = known ?? this.clusters.intern(key, () => makeClusterEntry(c));
          this.lastCluster = cluster;
        }
      }
    }
    if (p < 0 || (c !== undefined && cluster < 0)) {
      (this.verbatim ??= new Map()).set(slot, a);
      return VERBATIM;
    }
    const b = boolsOf(a);
    let shape = -1;
    for (const id of this.recentShapes) {
      if (sameShape(this.shapes.peek(id), a, p, b, cluster)) {
        shape = id;
        this.shapes.ref(id);
        break;
      }
    }
    if (shape < 0) {
      shape = this.shapes.intern(shapeKey(a, p, b, cluster), () => {
        // A new shape holds one reference to its cluster entry (a new entry was made with it).
        if (cluster >= 0 && !newCluster) this.clusters.ref(cluster);
        return makeShape(a, p, b, cluster);
      });
      this.recentShapes[this.nextRecent] = shape;
      this.nextRecent = (this.nextRecent + 1) % this.recentShapes.length;
    }
    this.shapeIds[slot] = shape;
    let f = this.start(slot, a.startedAt);
    const t = a.timings;
    f |= this.micros(slot, F_CONNECT, t.connectMs);
    f |= this.micros(slot, F_TLS, t.tlsMs);
    f |= this.micros(slot, F_FIRST_BYTE, t.firstByteMs);
    f |= this.micros(slot, F_TOTAL, t.totalMs);
    const port = a.sourcePort;
    if (port === undefined) f |= PORT_UNDEFINED;
    else if (Number.isInteger(port) && port >= 0 && port <= 0xffff && !Object.is(port, -0)) this.ports[slot] = port;
    else f |= this.except(slot, F_PORT, port);
    if (c !== undefined && this.clusters.value(cluster).presence & C_AGE) {
      const age = c.metadataAgeMs;
      if (!this.ages) this.addColumn(-1);
      const ages = this.ages!;
      if (age === undefined) ages[slot] = U32_UNDEFINED;
      else if (Number.isInteger(age) && age >= 0 && age <= U32_MAX && !Object.is(age, -0)) ages[slot] = age;
      else {
        ages[slot] = U32_EXCEPTION;
        f |= this.except(slot, F_AGE, age);
      }
    }
    return f;
  }

  /** Stores a timing as whole microseconds when that reads back exactly, else aside. */
  private micros(slot: number, field: number, v: number | undefined): number {
    let col = this.timings[field];
    if (v === undefined) {
      if (col) col[slot] = U32_UNDEFINED;
      return 0;
    }
    // The first value of this timing: every slot so far had none.
    if (!col) {
      this.addColumn(field);
      col = this.timings[field]!;
    }
    const us = Math.round(v * 1000);
    if (us >= 0 && us <= U32_MAX && us / 1000 === v && !Object.is(v, -0)) {
      col[slot] = us;
      return 0;
    }
    col[slot] = U32_EXCEPTION;
    return this.except(slot, field, v);
  }

  /** Stores startedAt as whole ms from the base when that reads back exactly, moving the base when time ran past it. */
  private start(slot: number, at: number): number {
    if (!Number.isSafeInteger(at) || Object.is(at, -0)) {
      this.starts[slot] = U32_EXCEPTION;
      return this.except(slot, F_START, at);
    }
    this.startBase ??= at - START_HALF_RANGE;
    if (at - this.startBase < 0 || at - this.startBase > U32_MAX) this.rebase(at - START_HALF_RANGE, slot);
    this.starts[slot] = at - this.startBase;
    return 0;
  }

  /** Moves the base (once in 24 days of a running store); a held start the new base cannot reach is kept aside. */
  private rebase(base: number, writing: number): void {
    const old = this.startBase!;
    this.startBase = base;
    let slot = this.head;
    for (let k = 0; k < this.count; k++) {
      slot = slot === 0 ? this.capacity - 1 : slot - 1;
      if (slot === writing || this.flags[slot]! & VERBATIM || this.starts[slot] === U32_EXCEPTION) continue;
      const at = old + this.starts[slot]!;
      if (at - base >= 0 && at - base <= U32_MAX) this.starts[slot] = at - base;
      else {
        this.starts[slot] = U32_EXCEPTION;
        this.flags[slot]! |= this.except(slot, F_START, at);
      }
    }
  }

  private startOf(slot: number): number {
    const off = this.starts[slot]!;
    return off === U32_EXCEPTION ? this.exceptions!.get(slot * 8 + F_START)! : this.startBase! + off;
  }

  private except(slot: number, field: number, v: number): number {
    (this.exceptions ??= new Map()).set(slot * 8 + field, v);
    return EXCEPTIONS;
  }

  /** Releases what `slot` holds before it is overwritten. */
  private clear(slot: number): void {
    const f = this.flags[slot]!;
    if (f & IRREGULAR) this.irregular!.delete(slot);
    if (f & EXCEPTIONS) for (let k = 0; k < 8; k++) this.exceptions!.delete(slot * 8 + k);
    if (f & VERBATIM) {
      this.verbatim!.delete(slot);
      return;
    }
    const gone = this.shapes.release(this.shapeIds[slot]!);
    if (gone && gone.cluster >= 0) this.clusters.release(gone.cluster);
  }

  private timing(slot: number, field: number): number | undefined {
    const col = this.timings[field];
    if (!col) return undefined;
    const us = col[slot]!;
    if (us === U32_UNDEFINED) return undefined;
    return us === U32_EXCEPTION ? this.exceptions!.get(slot * 8 + field) : us / 1000;
  }

  private materialise(slot: number, seq: number): Attempt {
    const f = this.flags[slot]!;
    if (f & VERBATIM) return this.verbatim!.get(slot)!;
    const s = this.shapes.value(this.shapeIds[slot]!);
    const p = s.presence;
    let a: Mutable<Attempt>;
    if ((p & PROBER_KEYS) === PROBER_KEYS) {
      // The prober's own shape (every result key present): one literal, one hidden class.
      a = {
        ok: isOk(s), reason: s.reason, detail: s.detail, errorCode: s.errorCode, timings: this.timingsOf(slot, p), synRetransmit: isSyn(s),
        sourcePort: this.port(slot, f), remoteAddress: s.remoteAddress, httpStatus: s.httpStatus, backend: s.backend, certNotAfter: s.certNotAfter,
        seq, target: s.target, startedAt: this.startOf(slot), stalled: isStalled(s), burst: isBurst(s),
      };
    } else {
      a = { ok: isOk(s) } as Mutable<Attempt>;
      if (p & P_REASON) a.reason = s.reason;
      if (p & P_DETAIL) a.detail = s.detail;
      if (p & P_ERROR_CODE) a.errorCode = s.errorCode;
      a.timings = this.timingsOf(slot, p);
      a.synRetransmit = isSyn(s);
      if (p & P_SOURCE_PORT) a.sourcePort = this.port(slot, f);
      if (p & P_REMOTE) a.remoteAddress = s.remoteAddress;
      if (p & P_HTTP_STATUS) a.httpStatus = s.httpStatus;
      if (p & P_BACKEND) a.backend = s.backend;
      if (p & P_CERT) a.certNotAfter = s.certNotAfter;
      a.seq = seq;
      a.target = s.target;
      a.startedAt = this.startOf(slot);
      a.stalled = isStalled(s);
      a.burst = isBurst(s);
    }
    if (p & P_CLUSTER) a.cluster = s.cluster < 0 ? undefined : this.cluster(slot, this.clusters.value(s.cluster));
    if (p & P_BACKEND_NODE) a.backendNode = s.backendNode;
    return Object.freeze(a);
  }

  private timingsOf(slot: number, p: number): Attempt['timings'] {
    if ((p & ALL_TIMINGS) === ALL_TIMINGS) {
      return { connectMs: this.timing(slot, F_CONNECT), tlsMs: this.timing(slot, F_TLS), firstByteMs: this.timing(slot, F_FIRST_BYTE), totalMs: this.timing(slot, F_TOTAL)! };
    }
    const t = {} as Mutable<Attempt['timings']>;
    if (p & P_CONNECT) t.connectMs = this.timing(slot, F_CONNECT);
    if (p & P_TLS) t.tlsMs = this.timing(slot, F_TLS);
    if (p & P_FIRST_BYTE) t.firstByteMs = this.timing(slot, F_FIRST_BYTE);
    t.totalMs = this.timing(slot, F_TOTAL)!;
    return t;
  }

  private port(slot: number, f: number): number | undefined {
    if (f & PORT_UNDEFINED) return undefined;
    return f & EXCEPTIONS && this.exceptions!.has(slot * 8 + F_PORT) ? this.exceptions!.get(slot * 8 + F_PORT) : this.ports[slot];
  }

  private cluster(slot: number, e: ClusterEntry): AttemptClusterContext {
    if (!(e.presence & C_AGE)) return materialiseCluster(e, undefined);
    const age = this.ages![slot]!;
    return materialiseCluster(e, age === U32_UNDEFINED ? undefined : age === U32_EXCEPTION ? this.exceptions!.get(slot * 8 + F_AGE) : age);
  }
}
