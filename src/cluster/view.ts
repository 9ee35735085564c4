import { createHash } from 'node:crypto';
import type { AttemptClusterContext, AttemptNeighbour } from '../history/attempt.js';
import { sameList } from '../lib/same-list.js';
import type { EventObj, L2StatusObj, SliceObj } from './objects.js';
import type { AnnouncerInfo, ClusterSnapshot, EndpointInfo, TargetClusterView } from './types.js';

/**
 * Endpoints of a Service from its slices. One pod can appear in several slices (an IPv4 and an IPv6 slice, or
 * during a slice rewrite): it is counted once, by its targetRef, else by its first address.
 */
export function endpointsFromSlices(slices: readonly SliceObj[]): EndpointInfo[] {
  const seen = new Map<string, EndpointInfo>();
  const ordered = [...slices].sort((a, b) => a.meta.name.localeCompare(b.meta.name));
  for (const s of ordered) {
    for (const e of s.endpoints) {
      const pod = e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined;
      const id = e.targetRef?.name ? `${e.targetRef.kind}/${e.targetRef.namespace}/${e.targetRef.name}` : `ip/${e.addresses[0] ?? ''}`;
      const prev = seen.get(id);
      if (prev) {
        for (const a of e.addresses) if (!prev.addresses.includes(a)) prev.addresses.push(a);
        continue;
      }
      seen.set(id, { addresses: [...e.addresses], node: e.nodeName, pod, ready: e.ready, serving: e.serving, terminating: e.terminating });
    }
  }
  return [...seen.values()];
}

/** Ready endpoints per node; a node whose endpoints are all unready shows 0. Endpoints without a node are left out. */
export function endpointsPerNode(endpoints: readonly EndpointInfo[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of endpoints) {
    if (!e.node) continue;
    out[e.node] = (out[e.node] ?? 0) + (e.ready ? 1 : 0);
  }
  return sortKeys(out);
}

const NODE_ASSIGNED = /announcing from node "([^"]+)"/;

export interface AnnouncerEvidence {
  l2Statuses: readonly L2StatusObj[];
  events: readonly EventObj[];
  /** Nodes whose InternalIP MAC is the VIP's MAC now. */
  arpNodes: readonly string[];
  arpSince?: number;
  /** TargetConfig.announcerNode. */
  pinned?: string;
}

/**
 * The announcing node, strongest source first: MetalLB's ServiceL2Status, then the newest nodeAssigned event, then the
 * neighbour table (only when exactly one node matches), then the node pinned in the config.
 */
export function resolveAnnouncer(ev: AnnouncerEvidence): AnnouncerInfo | undefined {
  const l2 = ev.l2Statuses
    .filter((s) => s.node)
    .sort((a, b) => (b.meta.creationTimestamp ?? 0) - (a.meta.creationTimestamp ?? 0) || a.meta.name.localeCompare(b.meta.name))[0];
  if (l2) return { node: l2.node!, source: 'servicel2status', since: l2.meta.creationTimestamp };
  let newest: { node: string; time?: number } | undefined;
  for (const e of ev.events) {
    if (e.reason !== 'nodeAssigned') continue;
    const m = e.message?.match(NODE_ASSIGNED);
    if (!m) continue;
    if (!newest || (e.time ?? 0) > (newest.time ?? 0)) newest = { node: m[1]!, time: e.time };
  }
  if (newest) return { node: newest.node, source: 'event', since: newest.time };
  if (ev.arpNodes.length === 1) return { node: ev.arpNodes[0]!, source: 'arp', since: ev.arpSince };
  if (ev.pinned) return { node: ev.pinned, source: 'config' };
  return undefined;
}

/** Changes whenever the announcer or the ready-endpoint placement changes. */
export function viewVersion(view: Pick<TargetClusterView, 'announcer' | 'endpointsPerNode'>): string {
  const basis = JSON.stringify([view.announcer?.node ?? null, Object.entries(sortKeys(view.endpointsPerNode))]);
  return createHash('sha1').update(basis).digest('hex').slice(0, 12);
}

/** The snapshot recorded on an attempt; `neighbour` only when vipwatch reads the neighbour table (view.arp). */
export function contextFromView(view: TargetClusterView, now: number, version = viewVersion(view)): AttemptClusterContext {
  const context = {
    announcerNode: view.announcer?.node,
    announcerSource: view.announcer?.source,
    endpointsPerNode: { ...view.endpointsPerNode },
    externalTrafficPolicy: view.externalTrafficPolicy,
    metadataAgeMs: view.syncedAt === undefined ? undefined : Math.max(0, now - view.syncedAt),
    stale: view.stale,
    viewVersion: version,
  };
  return view.arp ? { ...context, neighbour: { macs: [...view.arp.macs], nodes: [...view.arp.nodes], steady: true } } : context;
}

/** The context of an attempt that ended with the VIP's MACs `macsAtEnd`: unsteady when they are not the ones it started with. */
export function settleNeighbour(context: AttemptClusterContext, macsAtEnd: readonly string[]): AttemptClusterContext {
  const n: AttemptNeighbour | undefined = context.neighbour;
  if (!n || !n.steady || sameList(n.macs, macsAtEnd)) return context;
  return { ...context, neighbour: { macs: n.macs, nodes: n.nodes, steady: false } };
}

function sortKeys(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
}

/** What an attempt that has just ended records of the snapshot taken at its start. */
export function contextToRecord(snapshot: ClusterSnapshot | undefined): AttemptClusterContext | undefined {
  return snapshot?.contextAtEnd ? snapshot.contextAtEnd() : snapshot?.context;
}
