/** Which attempts a diagnosis may use, and the cluster placement they were made under. */
import type { TargetClusterView } from '../cluster/types.js';
import type { Attempt } from '../history/attempt.js';

export interface Placement {
  /** Ready endpoints per node (nodes with 0 dropped). */
  endpointsPerNode: Record<string, number>;
  announcerNode?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  /** The API could not confirm the placement: node-level conclusions are not drawn. */
  stale: boolean;
  version: string | null;
}

export interface Sample {
  /** In the window, not stalled, not a probe error, every cluster view (oldest first). */
  all: Attempt[];
  /** The subset made under the newest cluster view: what node-level rules use. */
  used: Attempt[];
  stalled: number;
  /** Attempts lost to vipwatch's own resources (reason probe_error): neither failures nor successes of the target. */
  probeErrors: number;
  otherView: number;
  placement?: Placement;
  lastSeq: number;
}

/**
 * Drops attempts outside the window, those made while the probe itself stalled and those vipwatch itself could not
 * make (probe_error: out of fds, ports, memory or buffers), then keeps only the attempts made
 * under the newest cluster view: evidence gathered under another announcer or endpoint placement is not mixed in.
 */
export function selectSample(attempts: readonly Attempt[], view: TargetClusterView | undefined, now: number, windowMs: number): Sample {
  const from = now - windowMs;
  const all: Attempt[] = [];
  let stalled = 0;
  let probeErrors = 0;
  let lastSeq = 0;
  for (const a of attempts) {
    if (a.seq > lastSeq) lastSeq = a.seq;
    if (a.startedAt < from || a.startedAt > now) continue;
    if (a.stalled) {
      stalled++;
      continue;
    }
    if (!a.ok && a.reason === 'probe_error') {
      probeErrors++;
      continue;
    }
    all.push(a);
  }
  // History is in completion order; with concurrent bursts a timeout that started before a success completes after it.
  // What the network did is told by when each attempt's SYN went out: judge in start order (stable: already sorted
  // streams cost one pass).
  if (!isSortedByStart(all)) all.sort((x, y) => x.startedAt - y.startedAt);
  const newest = all[all.length - 1];
  if (!newest) return { all, used: [], stalled, probeErrors, otherView: 0, lastSeq };
  const version = newest.cluster?.viewVersion ?? null;
  const used = all.filter((a) => (a.cluster?.viewVersion ?? null) === version);
  let placement: Placement | undefined;
  if (newest.cluster) {
    const c = newest.cluster;
    placement = { endpointsPerNode: positive(c.endpointsPerNode), announcerNode: c.announcerNode, externalTrafficPolicy: c.externalTrafficPolicy, stale: c.stale, version };
  } else if (view) {
    placement = { endpointsPerNode: positive(view.endpointsPerNode), announcerNode: view.announcer?.node, externalTrafficPolicy: view.externalTrafficPolicy, stale: view.stale, version: null };
  }
  return { all, used, stalled, probeErrors, otherView: all.length - used.length, placement, lastSeq };
}

function isSortedByStart(xs: readonly Attempt[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i]!.startedAt < xs[i - 1]!.startedAt) return false;
  return true;
}

function positive(m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) if (v > 0) out[k] = v;
  return out;
}

export function totalEndpoints(p: Placement): number {
  let s = 0;
  for (const v of Object.values(p.endpointsPerNode)) s += v;
  return s;
}

export function shareOf(p: Placement, nodes: readonly string[]): number {
  const total = totalEndpoints(p);
  if (total === 0) return 0;
  let s = 0;
  for (const n of nodes) s += p.endpointsPerNode[n] ?? 0;
  return s / total;
}

/**
 * The endpoints a connection to the VIP can reach. Under externalTrafficPolicy: Local with one announcing node (L2),
 * kube-proxy there forwards only to its own endpoints: those on other nodes serve none of the VIP's connections, and
 * counting them would make their silence look like a node split. Unchanged otherwise (Cluster; BGP, where no single
 * node announces; an announcer without a local endpoint, which serves nothing at all).
 */
export function reachable(p: Placement | undefined): Placement | undefined {
  if (!p || p.externalTrafficPolicy !== 'Local' || !p.announcerNode) return p;
  const own = p.endpointsPerNode[p.announcerNode] ?? 0;
  return own > 0 ? { ...p, endpointsPerNode: { [p.announcerNode]: own } } : p;
}
