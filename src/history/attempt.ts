import type { ProbeResult } from '../probe/types.js';

/** How a node label on an attempt was obtained. */
export type NodeHow = 'observed' | 'inferred';

/** The node a failed attempt is attributed to (the diagnosis's output for that attempt). */
export interface FailureAttribution {
  /** A node name, 'ambiguous' (several remain) or 'unknown' (no cluster view). */
  readonly node: string;
  readonly how: NodeHow;
}

/**
 * The VIP's neighbour entry an attempt went to: what vipwatch's own neighbour table held for the VIP when the attempt
 * started, read again when it ended (kubernetes.arp.enabled, vipwatch on the VIP's L2 segment). With two announcers
 * (split brain) this says which one the attempt's packets were sent to.
 */
export interface AttemptNeighbour {
  /** MACs in the neighbour table for the VIP when the attempt started, sorted; empty: no complete entry (routed, or unresolved). */
  readonly macs: readonly string[];
  /** Nodes owning those MACs (through Node InternalIPs or node agents), sorted; empty: no node is known to own them. */
  readonly nodes: readonly string[];
  /** False when the entry read when the attempt ended differed: which MAC its packets went to is not known. */
  readonly steady: boolean;
}

/**
 * The one MAC the attempt's packets went to: its neighbour entry held a single MAC from start to end. Undefined when
 * that is not known (no entry, two MACs at once, the entry changed while the attempt ran).
 */
export function steadyMac(a: { readonly cluster?: AttemptClusterContext }): string | undefined {
  const nb = a.cluster?.neighbour;
  return nb && nb.steady && nb.macs.length === 1 ? nb.macs[0] : undefined;
}

/** The cluster view an attempt was made under (filled when cluster metadata is configured). */
export interface AttemptClusterContext {
  readonly announcerNode?: string;
  readonly announcerSource?: 'servicel2status' | 'event' | 'arp' | 'config';
  /** Ready endpoints per node. */
  readonly endpointsPerNode: Readonly<Record<string, number>>;
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
  /** Milliseconds since the view was last confirmed by the API; undefined when never synced. */
  readonly metadataAgeMs?: number;
  /** True when the metadata is older than allowed or the API is unreachable. */
  readonly stale: boolean;
  /** Changes whenever announcer or endpoint placement changes; lets diagnosis spot a moving view. */
  readonly viewVersion: string;
  /** The VIP's neighbour entry for this attempt; absent when vipwatch does not read the neighbour table. */
  readonly neighbour?: AttemptNeighbour;
}

/** What the scheduler knows about an attempt besides the prober's result. */
export interface AttemptMeta {
  readonly seq: number;
  readonly target: string;
  /** Epoch ms when the attempt started. */
  readonly startedAt: number;
  /** The probe's own event loop stalled during the attempt: never blame the network for it. */
  readonly stalled: boolean;
  /** Made during an adaptive burst. */
  readonly burst: boolean;
  readonly cluster?: AttemptClusterContext;
  /** Node of the backend that served a success, mapped from `backend` through EndpointSlices. */
  readonly backendNode?: string;
}

/**
 * One probe attempt as recorded in history: the prober's result plus what the scheduler knew, built once by
 * `makeAttempt` and never changed afterwards. The node a failure is blamed on is not part of it: that is the
 * diagnosis's output, kept beside the attempt by its history.
 */
export type Attempt = Readonly<ProbeResult> & AttemptMeta;

/**
 * The only place an attempt record is built. Copied with Object.assign, not an object spread: in Node 20 a spread
 * with further properties gives every record a hidden class of its own (about 35 us and a new map per attempt, and
 * megamorphic reads downstream); the keys and their order are the same.
 */
export function makeAttempt(result: ProbeResult, meta: AttemptMeta): Attempt {
  const a = Object.assign({}, result) as ProbeResult & { -readonly [K in keyof AttemptMeta]: AttemptMeta[K] };
  a.seq = meta.seq;
  a.target = meta.target;
  a.startedAt = meta.startedAt;
  a.stalled = meta.stalled;
  a.burst = meta.burst;
  if (meta.cluster) a.cluster = meta.cluster;
  if (meta.backendNode !== undefined) a.backendNode = meta.backendNode;
  return Object.freeze(a);
}
