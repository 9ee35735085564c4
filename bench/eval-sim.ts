/**
 * A seeded simulator of probe attempt streams against a MetalLB VIP, for the diagnosis evaluation (and tests).
 * Model: kube-proxy picks a ready endpoint uniformly per connection; a path drop (strict rp_filter on the backend's node
 * when it is not the announcer, or a DSR datapath) drops every SYN of the flow -> connect_timeout; random loss drops
 * each SYN or SYN-ACK independently, the kernel retransmits the SYN after 1 s, 3 s, ... -> slow connect or timeout.
 * Under externalTrafficPolicy: Local the announcer's kube-proxy picks among its own endpoints only and drops every
 * connection when it has none. Every attempt records the VIP's neighbour entry it went to (the announcer's MAC; after a
 * failover the old MAC until the gap ends); in a split brain a second MAC holds the entry in alternating periods.
 */
import type { Attempt, AttemptClusterContext, AttemptNeighbour } from '../src/history/attempt.js';
import { synTransmissions } from '../src/diagnosis/tally.js';

export type Rng = () => number;

/** mulberry32: small, fast, good enough for simulation. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Fault =
  | { kind: 'none' }
  /** Strict rp_filter on these nodes: replies from their pods are dropped unless the node announces the VIP. */
  | { kind: 'rp_filter'; nodes: string[] }
  /** DSR / no-SNAT datapath with strict rp_filter everywhere: only pods on the announcer answer. */
  | { kind: 'dsr' }
  | { kind: 'outage' }
  /** Per-packet random loss starting at the onset (on top of the background loss). */
  | { kind: 'loss'; rate: number }
  /** A pod on this node is not listening: RST. */
  | { kind: 'refuse'; node: string }
  /** Pods on this node answer HTTP 500 (the response names the backend). */
  | { kind: 'http500'; node: string };

export type SimEvent =
  | { at: number; kind: 'failover'; to: string; gap?: number }
  | { at: number; kind: 'move'; from: string; to: string }
  /** The Service's externalTrafficPolicy changes. */
  | { at: number; kind: 'policy'; to: 'Cluster' | 'Local' }
  | { at: number; kind: 'stall'; length: number }
  /** The fault stops (the fix lands) or starts again: toggles it from this attempt on. */
  | { at: number; kind: 'toggle' };

/**
 * From the onset, a second MAC also answers ARP for the VIP (split brain): the client's neighbour entry holds it and
 * the announcer's MAC in turn, `flipMs` each (give or take `jitter`), the second first.
 */
export interface SplitBrain {
  /** The node owning the second MAC; undefined: a host no node owns (the MAC is unknown). */
  node?: string;
  flipMs: number;
  /** Each period is flipMs x (1 +- jitter), drawn uniformly (two speakers' gratuitous ARPs are not locked to the probe). */
  jitter?: number;
  /** Connections sent to the second MAC are dropped (else it serves like the announcer). */
  drops: boolean;
  /** The announcer is known only from the neighbour table (no ServiceL2Status): the view follows the entry. */
  viewFollowsMac?: boolean;
}

export interface Scenario {
  endpoints: Record<string, number>;
  announcer: string;
  identity: boolean;
  timeoutMs: number;
  intervalMs: number;
  /** Healthy attempts before the fault starts. */
  warmup: number;
  /** Attempts after the fault starts. */
  length: number;
  fault: Fault;
  /** Per-packet random loss (SYN and SYN-ACK each), background to any fault. */
  loss: number;
  /** Probability per attempt that the probe stalls (the attempt is flagged and looks failed). */
  stallRate: number;
  /** Attempts between a placement change and the view reporting it. */
  viewLag: number;
  /** Indexes relative to fault onset. */
  events: SimEvent[];
  start: number;
  /** externalTrafficPolicy at the start; Cluster when absent. */
  policy?: 'Cluster' | 'Local';
  splitBrain?: SplitBrain;
}

/** The MAC of a node's interface on the VIP's segment: node-N -> 02:00:00:00:00:NN. */
export function macOf(node: string): string {
  const n = Number(/(\d+)$/.exec(node)?.[1] ?? 0);
  return `02:00:00:00:00:${(n % 100).toString().padStart(2, '0')}`;
}

/** The MAC of the host in an unknown-MAC split brain (owned by no node). */
export const STRANGER_MAC = '02:00:00:00:00:ff';

export const DEFAULT_SCENARIO: Scenario = {
  endpoints: { 'node-1': 1, 'node-2': 1, 'node-3': 1 },
  announcer: 'node-1',
  identity: true,
  timeoutMs: 2000,
  intervalMs: 2000,
  warmup: 40,
  length: 100,
  fault: { kind: 'none' },
  loss: 0,
  stallRate: 0,
  viewLag: 2,
  events: [],
  start: Date.UTC(2026, 0, 1),
};

/** Where the endpoints really are and which node announces the VIP. */
export interface Placement {
  endpoints: Record<string, number>;
  announcer: string;
  /** Cluster when absent. */
  policy?: 'Cluster' | 'Local';
}

/** Generates warmup + length attempts, oldest first. */
export function simulate(s: Scenario, random: Rng): Attempt[] {
  const tx = synTransmissions(s.timeoutMs);
  let real: Placement = { endpoints: { ...s.endpoints }, announcer: s.announcer, ...(s.policy ? { policy: s.policy } : {}) };
  let version = 1;
  // The view lags reality: (applyAt, placement, version) entries.
  const pending: { at: number; p: Placement; v: number }[] = [];
  let view: { p: Placement; v: number } = { p: clone(real), v: version };
  let gapLeft = 0;
  // The node whose MAC the client's neighbour entry holds: the announcer, or the old one during a failover's gap.
  let entryNode = real.announcer;
  let stallLeft = 0;
  let faultActive = true;
  const onset = s.start + s.warmup * s.intervalMs;
  const flips = s.splitBrain ? flipSchedule(s.splitBrain, onset) : undefined;
  const out: Attempt[] = [];
  const total = s.warmup + s.length;
  for (let i = 0; i < total; i++) {
    const rel = i - s.warmup;
    for (const e of s.events) {
      if (e.at !== rel) continue;
      if (e.kind === 'stall') stallLeft = e.length;
      else if (e.kind === 'toggle') faultActive = !faultActive;
      else {
        real = clone(real);
        if (e.kind === 'failover') {
          entryNode = real.announcer;
          real.announcer = e.to;
          gapLeft = e.gap ?? 2;
        } else if (e.kind === 'policy') {
          real.policy = e.to;
        } else {
          real.endpoints[e.from] = (real.endpoints[e.from] ?? 0) - 1;
          if (real.endpoints[e.from]! <= 0) delete real.endpoints[e.from];
          real.endpoints[e.to] = (real.endpoints[e.to] ?? 0) + 1;
        }
        pending.push({ at: i + s.viewLag, p: clone(real), v: ++version });
      }
    }
    while (pending.length && pending[0]!.at <= i) {
      const x = pending.shift()!;
      view = { p: x.p, v: x.v };
    }
    const faultOn = rel >= 0 && faultActive;
    const startedAt = s.start + i * s.intervalMs;
    if (gapLeft === 0) entryNode = real.announcer;
    const split = s.splitBrain && rel >= 0 ? s.splitBrain : undefined;
    const second = split ? flips!.phase(startedAt) % 2 === 0 : false;
    const cluster: AttemptClusterContext = {
      announcerNode: view.p.announcer, announcerSource: 'servicel2status', endpointsPerNode: { ...view.p.endpoints },
      externalTrafficPolicy: view.p.policy ?? 'Cluster', stale: false, viewVersion: `v${view.v}`, metadataAgeMs: 1000,
    };
    if (split?.viewFollowsMac) {
      const owner = second ? split.node : entryNode;
      Object.assign(cluster, { announcerNode: owner, announcerSource: owner === undefined ? undefined : 'arp', viewVersion: `v${view.v}@${owner ?? '-'}` });
    }
    const node = pickNode(routable(real), random);
    const a: Draft = { seq: i + 1, target: 'web', startedAt, ok: false, stalled: false, burst: false, synRetransmit: false, timings: { totalMs: 0 }, cluster };
    let stalled = stallLeft > 0 || random() < s.stallRate;
    if (stallLeft > 0) stallLeft--;
    if (stalled) {
      // The probe's own pause makes the attempt look like a timeout (or a slow connect).
      Object.assign(a, random() < 0.7 ? timeout(s) : slowOk(node, s));
      a.stalled = true;
    } else if (gapLeft > 0) {
      gapLeft--;
      Object.assign(a, timeout(s));
    } else if (split && second && split.drops) {
      Object.assign(a, throughDroppingMac(s, startedAt, flips!.next(startedAt), tx));
    } else {
      Object.assign(a, outcome(s, faultOn, node, real, tx, random));
    }
    if (a.ok && s.identity) {
      a.backend = `${node}-pod`;
      a.backendNode = node;
    }
    const steady = !split || flips!.phase(startedAt) === flips!.phase(startedAt + a.timings.totalMs);
    a.cluster = { ...cluster, neighbour: neighbourOf(split, second, entryNode, steady) };
    out.push(a);
  }
  return out;
}

/** An attempt being made up by the simulation (records are immutable once built; this one is still being filled). */
type Draft = { -readonly [K in keyof Attempt]: Attempt[K] };

/**
 * One connection's outcome: `node` is the node kube-proxy handed it to, `faultOn` whether the scenario's fault holds
 * when it starts, `tx` the SYN transmissions that fit in the timeout (synTransmissions). Shared by `simulate` and the
 * wall-time evaluation (eval-walltime.ts), which gives every connection its own start time.
 */
export function outcome(s: Scenario, faultOn: boolean, node: string, real: Placement, tx: number, random: Rng): Partial<Attempt> {
  const f = faultOn ? s.fault : { kind: 'none' as const };
  if (f.kind === 'outage') return timeout(s);
  if (real.policy === 'Local' && !((real.endpoints[real.announcer] ?? 0) > 0)) return timeout(s);
  if (f.kind === 'rp_filter' && f.nodes.includes(node) && node !== real.announcer) return timeout(s);
  if (f.kind === 'dsr' && node !== real.announcer) return timeout(s);
  // Handshake with random loss: each transmission fails if the SYN or the SYN-ACK is lost.
  const lossRate = f.kind === 'loss' ? 1 - (1 - s.loss) * (1 - f.rate) : s.loss;
  const r = 1 - (1 - lossRate) * (1 - lossRate);
  let k = 0;
  while (k < tx && random() < r) k++;
  if (k === tx) return timeout(s);
  const connectMs = [0, 1000, 3000, 7000, 15000, 31000, 63000, 127000][k]! + 0.5 + random();
  if (f.kind === 'refuse' && f.node === node) return { ok: false, reason: 'refused', errorCode: 'ECONNREFUSED', synRetransmit: k > 0, timings: { totalMs: connectMs } };
  if (f.kind === 'http500' && f.node === node) {
    return {
      ok: false, reason: 'http_status', httpStatus: 500, synRetransmit: k > 0, timings: { connectMs, firstByteMs: connectMs + 2, totalMs: connectMs + 3 },
      ...(s.identity ? { backend: `${node}-pod`, backendNode: node } : {}),
    };
  }
  return { ok: true, synRetransmit: k > 0, timings: { connectMs, firstByteMs: connectMs + 2, totalMs: connectMs + 3 } };
}

/**
 * When the entry flips: phase(t) counts the flips since the onset (even: the second MAC), next(t) is the next flip.
 * Drawn from its own generator, so a scenario's other random draws do not depend on the flips.
 */
function flipSchedule(split: SplitBrain, onset: number): { phase(t: number): number; next(t: number): number } {
  const r = rng(Math.round(split.flipMs * 1000));
  const j = split.jitter ?? 0;
  const at = [onset];
  const upTo = (t: number) => {
    while (at[at.length - 1]! <= t) at.push(at[at.length - 1]! + split.flipMs * (1 - j + 2 * j * r()));
  };
  const phase = (t: number) => {
    upTo(t);
    let k = 0;
    while (at[k + 1]! <= t) k++;
    return k;
  };
  return { phase, next: (t) => at[phase(t) + 1]! };
}

/** The entry an attempt went to, and whether it still held when the attempt ended (a flip in between: unsteady). */
function neighbourOf(split: SplitBrain | undefined, second: boolean, entryNode: string, steady: boolean): AttemptNeighbour {
  if (!split || !second) return { macs: [macOf(entryNode)], nodes: [entryNode], steady };
  return split.node === undefined ? { macs: [STRANGER_MAC], nodes: [], steady } : { macs: [macOf(split.node)], nodes: [split.node], steady };
}

/**
 * A connection whose SYN went to the dropping MAC: lost, unless the entry flips back to the announcer before a SYN
 * retransmission that still fits in the timeout (then that one connects: a slow connect).
 */
function throughDroppingMac(s: Scenario, startedAt: number, flipAt: number, tx: number): Partial<Attempt> {
  for (let k = 1; k < tx; k++) {
    const at = [0, 1000, 3000, 7000, 15000, 31000, 63000, 127000][k]!;
    if (startedAt + at >= flipAt) return { ok: true, synRetransmit: true, timings: { connectMs: at + 0.5, firstByteMs: at + 2.5, totalMs: at + 3.5 } };
  }
  return timeout(s);
}

function timeout(s: Scenario): Partial<Attempt> {
  return { ok: false, reason: 'connect_timeout', errorCode: 'UND_ERR_CONNECT_TIMEOUT', synRetransmit: true, timings: { totalMs: s.timeoutMs } };
}

function slowOk(_node: string, s: Scenario): Partial<Attempt> {
  return { ok: true, synRetransmit: true, timings: { connectMs: Math.min(s.timeoutMs - 1, 1200), totalMs: Math.min(s.timeoutMs, 1210) } };
}

/** kube-proxy's choice for one connection: a ready endpoint uniformly, returned as its node. */
export function pickNode(endpoints: Record<string, number>, random: Rng): string {
  const total = Object.values(endpoints).reduce((a, b) => a + b, 0);
  let x = random() * total;
  for (const [n, k] of Object.entries(endpoints)) {
    x -= k;
    if (x < 0) return n;
  }
  return Object.keys(endpoints)[0]!;
}

/** The endpoints the announcer's kube-proxy picks from: its own under Local (all of them when it has none: it drops anyway). */
function routable(p: Placement): Record<string, number> {
  if (p.policy !== 'Local') return p.endpoints;
  const own = p.endpoints[p.announcer] ?? 0;
  return own > 0 ? { [p.announcer]: own } : p.endpoints;
}

function clone(p: Placement): Placement {
  return { endpoints: { ...p.endpoints }, announcer: p.announcer, ...(p.policy ? { policy: p.policy } : {}) };
}
