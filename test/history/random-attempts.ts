/**
 * Seeded random attempts for the compact history's property tests: the prober's own shape (every result key present,
 * many undefined), hand-made ones with optional keys absent, present-undefined or set, failures with details, cluster
 * views that change, pods that churn, numbers the compact columns cannot hold (raw floats, -0, NaN, out of range),
 * seqs that break the run and attempts of another shape altogether (unknown keys, other types).
 */
import type { Attempt, AttemptClusterContext } from '../../src/history/attempt.js';
import { makeAttempt } from '../../src/history/attempt.js';
import type { FailureReason, ProbeResult, Timings } from '../../src/probe/types.js';

type Rng = () => number;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const T0 = Date.UTC(2026, 0, 1);

const REASONS: FailureReason[] = ['connect_timeout', 'refused', 'reset', 'http_status', 'probe_error', 'tls'];
const NODES = ['node-0', 'node-1', 'node-2', 'node-3'];

export class AttemptGen {
  /** Wall clock of the stream (epoch ms). */
  now = T0;
  /** Pod generation: bumped now and then, so backend names churn. */
  private gen = 0;
  private view = 0;
  private seqBreak = 0;

  constructor(private readonly r: Rng, private readonly target = 't') {}

  private int(n: number): number {
    return Math.floor(this.r() * n);
  }

  private chance(p: number): boolean {
    return this.r() < p;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** A number the compact columns hold exactly most of the time, and now and then one they cannot. */
  private ms(scale: number): number {
    const x = this.r() * scale;
    if (!this.chance(0.04)) return Math.round(x * 1000) / 1000;
    return this.pick([x, -0, NaN, 5e6 + x, -1, 0, Infinity, 4294967.293]);
  }

  /** The seq to record under: the history's own next one, or now and then one that breaks the run. */
  seq(next: number): number {
    if (!this.chance(0.02)) return next;
    this.seqBreak++;
    return this.pick([next + 5, next - 1, next, 0, next + 0.5, 2 ** 53 + 2, -3]);
  }

  private timings(ok: boolean, full: boolean): Timings {
    const t: Mutable<Timings> = {} as Timings;
    const connect = ok || this.chance(0.3);
    if (full) {
      t.connectMs = connect ? this.ms(20) : undefined;
      t.tlsMs = this.chance(0.3) ? this.ms(5) : undefined;
      t.firstByteMs = ok && this.chance(0.6) ? this.ms(40) : undefined;
    } else {
      if (connect && this.chance(0.8)) t.connectMs = this.ms(20);
      else if (this.chance(0.2)) t.connectMs = undefined;
      if (this.chance(0.2)) t.tlsMs = this.chance(0.5) ? this.ms(5) : undefined;
      if (this.chance(0.3)) t.firstByteMs = this.ms(40);
    }
    t.totalMs = this.ms(ok ? 50 : 2000);
    return t;
  }

  private port(): number | undefined {
    if (!this.chance(0.05)) return 1024 + this.int(64_512);
    return this.pick([undefined, 0, 65_535, 70_000, 1.5, -0, NaN]);
  }

  private cluster(): AttemptClusterContext | undefined {
    if (this.chance(0.01)) this.view++;
    if (this.chance(0.1)) return undefined;
    const v = this.view % 7;
    const endpointsPerNode: Record<string, number> = {};
    for (let i = 0; i < 1 + (v % 3); i++) endpointsPerNode[`node-${(v + i) % 4}`] = 1 + ((v * i) % 2);
    if (v === 5) endpointsPerNode[`node-${this.view}`] = this.chance(0.1) ? -0 : 0; // a node name that churns
    const age = this.chance(0.9) ? this.int(30_000) : this.pick([undefined, 0.25, -0, 5e9]);
    if (this.chance(0.7)) {
      // As the cluster source builds it (contextFromView): every key present, the neighbour entry with kubernetes.arp.
      const built: AttemptClusterContext = {
        announcerNode: v === 3 ? undefined : `node-${v % 4}`, announcerSource: v === 3 ? undefined : this.pick(['servicel2status', 'event'] as const),
        endpointsPerNode, externalTrafficPolicy: v === 4 ? 'Local' : 'Cluster', metadataAgeMs: age, stale: v === 6 && this.chance(0.5), viewVersion: `v${this.view}`,
      };
      return this.chance(0.4) ? { ...built, neighbour: this.neighbour() } : built;
    }
    // Hand-made, in the same key order, optional keys absent or present.
    const c = {} as Mutable<AttemptClusterContext>;
    if (this.chance(0.5)) c.announcerNode = this.chance(0.8) ? `node-${v % 4}` : undefined;
    if (this.chance(0.3)) c.announcerSource = 'arp';
    c.endpointsPerNode = endpointsPerNode;
    if (this.chance(0.3)) c.externalTrafficPolicy = undefined;
    if (this.chance(0.5)) c.metadataAgeMs = age;
    c.stale = false;
    c.viewVersion = `v${this.view}`;
    if (this.chance(0.2)) c.neighbour = this.chance(0.2) ? undefined : this.neighbour();
    return c;
  }

  /** The VIP's neighbour entry: one MAC most of the time, flipping between two (split brain), rarely none or unsteady. */
  private neighbour(): NonNullable<AttemptClusterContext['neighbour']> {
    const flip = this.chance(0.5) ? 1 : 3;
    const macs = this.chance(0.05) ? [] : this.chance(0.05) ? ['02:00:00:00:00:01', '02:00:00:00:00:03'] : [`02:00:00:00:00:0${flip}`];
    const nodes = macs.length && this.chance(0.9) ? macs.map((m) => `node-${m.slice(-1)}`) : [];
    return { macs, nodes, steady: this.chance(0.95) };
  }

  private failure(): Pick<ProbeResult, 'reason' | 'detail' | 'errorCode'> {
    const reason = this.pick(REASONS);
    const detail = this.chance(0.05) ? `unique detail ${this.r()}` : reason === 'connect_timeout' ? `no SYN-ACK within ${1000 + this.int(4)}ms` : `${reason} from 192.0.2.1:80`;
    return { reason, detail, errorCode: reason === 'connect_timeout' ? 'VIPWATCH_DEADLINE' : this.pick(['ECONNREFUSED', 'ECONNRESET', undefined]) };
  }

  /** The next attempt under `seq`. */
  next(seq: number): Attempt {
    if (this.chance(0.005)) this.gen++;
    this.now += this.chance(0.2) ? 0 : 1 + this.int(2000);
    // Burst attempts complete out of order: startedAt is not monotonic in record order.
    const startedAt = this.chance(0.1) ? this.now - this.int(3000) : this.chance(0.02) ? this.now + 0.5 : this.now;
    const ok = this.chance(0.65);
    const pod = this.int(3);
    const backend = ok && this.chance(0.8) ? `web-${this.gen}-${pod}` : undefined;
    const cluster = this.cluster();
    const style = this.r();
    let a: Attempt;
    if (style < 0.55) {
      // The prober's shape (every key of the result present, in its order), recorded through makeAttempt.
      const f = ok ? { reason: undefined, detail: undefined, errorCode: undefined } : this.failure();
      const result: ProbeResult = {
        ok, ...f, timings: this.timings(ok, true), synRetransmit: this.chance(0.05), sourcePort: this.port(), remoteAddress: this.chance(0.9) ? '192.0.2.1' : undefined,
        httpStatus: ok ? 200 : this.chance(0.3) ? 503 : undefined, backend, certNotAfter: this.chance(0.2) ? T0 + 90 * 86_400_000 + this.pick([0, 0.5]) : undefined,
      };
      a = makeAttempt(result, { seq, target: this.target, startedAt, stalled: this.chance(0.03), burst: this.chance(0.2), cluster, backendNode: backend ? NODES[pod] : undefined });
    } else {
      // Hand-made: optional keys absent, present-undefined or set.
      const h: Mutable<Attempt> = { ok } as Attempt;
      if (!ok) {
        const f = this.failure();
        if (this.chance(0.9)) h.reason = f.reason;
        if (this.chance(0.7)) h.detail = f.detail;
        if (this.chance(0.5)) h.errorCode = f.errorCode;
      } else if (this.chance(0.1)) h.reason = undefined;
      h.timings = this.timings(ok, false);
      h.synRetransmit = this.chance(0.05);
      if (this.chance(0.7)) h.sourcePort = this.port();
      if (this.chance(0.5)) h.remoteAddress = this.chance(0.9) ? `192.0.2.${1 + this.int(3)}` : undefined;
      if (this.chance(0.3)) h.httpStatus = this.pick([200, 204, 503, undefined, 0]);
      if (backend || this.chance(0.1)) h.backend = backend;
      if (this.chance(0.05)) h.certNotAfter = this.pick([undefined, T0, -0]);
      Object.assign(h, { seq, target: this.chance(0.02) ? 'other' : this.target, startedAt, stalled: this.chance(0.03), burst: this.chance(0.2) });
      if (cluster || this.chance(0.05)) h.cluster = cluster;
      if (backend ? this.chance(0.9) : this.chance(0.05)) h.backendNode = backend ? NODES[pod] : undefined;
      a = this.chance(0.5) ? Object.freeze(h) : h;
    }
    return style > 0.97 ? this.odd(a) : a;
  }

  /** An attempt the compact form cannot hold field by field: it must come back exactly all the same. */
  private odd(a: Attempt): Attempt {
    switch (this.int(7)) {
      case 0:
        return { ...a, extra: 1 } as Attempt;
      case 1:
        return { ...a, httpStatus: '200' } as unknown as Attempt;
      case 2:
        return { ...a, timings: { ...a.timings, dnsMs: 1 } } as Attempt;
      case 3:
        return { ...a, cluster: { ...(a.cluster ?? { endpointsPerNode: {}, stale: false, viewVersion: 'x' }), endpointsPerNode: Object.assign(Object.create(null), { n: 1 }) } } as Attempt;
      case 4:
        return { ...a, cluster: { endpointsPerNode: { n: 1 }, stale: 'no', viewVersion: 'x' } } as unknown as Attempt;
      case 5:
        // A neighbour entry of another shape (keys in another order, or a MAC that is not a string).
        return { ...a, cluster: { endpointsPerNode: {}, stale: false, viewVersion: 'x', neighbour: this.chance(0.5) ? { steady: true, macs: [], nodes: [] } : { macs: [1], nodes: [], steady: true } } } as unknown as Attempt;
      default: {
        const { timings: _t, ...rest } = a;
        return rest as Attempt;
      }
    }
  }
}
