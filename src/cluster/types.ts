import type { Registry } from 'prom-client';
import type { AttemptClusterContext } from '../history/attempt.js';
import type { TargetConfig } from '../config/targets.js';

export type AnnouncerSource = 'servicel2status' | 'event' | 'arp' | 'config';

export interface EndpointInfo {
  addresses: string[];
  node?: string;
  /** Pod name from targetRef when kind is Pod. */
  pod?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface AnnouncerInfo {
  node: string;
  source: AnnouncerSource;
  /** Epoch ms since this node has been seen announcing. */
  since?: number;
}

/** What vipwatch knows about the cluster side of one target. */
export interface TargetClusterView {
  /** "namespace/name" */
  service?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  announcer?: AnnouncerInfo;
  endpoints: EndpointInfo[];
  /** Ready endpoints per node. */
  endpointsPerNode: Record<string, number>;
  /** Epoch ms of the last confirmation from the API; undefined when never synced. */
  syncedAt?: number;
  stale: boolean;
  /** False when the linked Service is not (or no longer) known to the API. */
  serviceFound?: boolean;
  /** Set for externalTrafficPolicy Local: kube-proxy's per-node health check port. */
  healthCheckNodePort?: number;
  /** Neighbour-table evidence for the VIP (kubernetes.arp.enabled and the probe on the VIP's L2 segment). */
  arp?: ArpEvidence;
}

/**
 * One target's cluster side at one moment: the view, the context an attempt records, and the backend-to-node map, all
 * from the same placement. Derived data is cached per placement, so asking for it on every attempt is cheap.
 */
export interface ClusterSnapshot {
  /** Undefined when nothing links the target to the cluster (no Service, no pinned announcer, no ARP evidence). */
  readonly view?: TargetClusterView;
  /** Recorded on the attempt; undefined when no cluster metadata is configured. */
  readonly context?: AttemptClusterContext;
  /**
   * The context to record once the attempt has ended: `context`, with its neighbour entry marked unsteady when the
   * VIP's MACs changed while the attempt ran (read again now). Absent when nothing is read at the end.
   */
  contextAtEnd?(): AttemptClusterContext | undefined;
  /** Maps a backend identity (node name, pod name or pod IP) to its node. */
  nodeOf(identity: string): string | undefined;
}

/** A change of the MACs answering for a VIP (failover, or several MACs at once: split brain). */
export interface MacChange {
  /** Epoch ms when the change was seen. */
  at: number;
  ip: string;
  from: string[];
  to: string[];
  fromNodes: string[];
  toNodes: string[];
}

export interface ArpEvidence {
  /** MACs in the neighbour table for the VIP now (more than one: split brain or several interfaces). */
  macs: string[];
  /** Nodes whose InternalIP has one of those MACs; empty when the VIP's MAC is no InternalIP's (secondary NIC, router). */
  nodes: string[];
  /** Recent MAC changes, oldest first. */
  changes: MacChange[];
}

/** synced: listed and watching; failing: retrying with backoff; disabled: the API answered 403/404 (RBAC, CRD missing). */
export type ResourceState = 'starting' | 'synced' | 'failing' | 'disabled';

export interface ResourceStatus {
  /** Plural resource: services, endpointslices, nodes, servicel2statuses, events. */
  resource: string;
  /**
   * The namespace the loop reads: MetalLB's for servicel2statuses, and each of kubernetes.namespaces for services,
   * endpointslices and events when it is set (one status per namespace). Absent for cluster-wide and cluster-scoped loops.
   */
  namespace?: string;
  state: ResourceState;
  /** Epoch ms of the last confirmation from the API (list, watch opened, event, bookmark, clean end of a watch). */
  lastSyncAt?: number;
  lastError?: string;
}

/**
 * The cluster metadata seen by the rest of vipwatch. Implemented by the Kubernetes client (src/cluster),
 * consumed by the scheduler (per-attempt context), diagnosis and the API.
 */
export interface ClusterSource {
  start(signal: AbortSignal): Promise<void>;
  viewFor(target: TargetConfig): TargetClusterView | undefined;
  /** What the cluster says about a target now: asked once per attempt. */
  snapshot(target: TargetConfig): ClusterSnapshot;
  /** Targets discovered from annotated LoadBalancer Services (empty when discovery is off). */
  discoveredTargets(): TargetConfig[];
  /** Called whenever discovered targets change. */
  onTargetsChanged(listener: () => void): void;
  /** A Node's InternalIPs as the API reports them (empty when unknown or without cluster metadata). */
  nodeAddresses?(node: string): string[];
  /** Names of the Nodes the API reports, sorted (empty without cluster metadata). */
  nodeNames?(): string[];
}

/** What `createClusterSource` returns: the ClusterSource plus the hooks `vipwatch run` wires. */
export interface ManagedClusterSource extends ClusterSource {
  /** Static targets from the (re)loaded config: discovery skips their address:port, metrics list them. */
  setStaticTargets(targets: TargetConfig[]): void;
  /**
   * Registers the cluster gauges on a registry (once per registry). `targets` is the list the gauges describe,
   * read at scrape time; by default the static plus discovered targets.
   */
  attachMetrics(registry: Registry, targets?: () => TargetConfig[]): void;
  /** Per-loop health (one per resource, or per resource and namespace), for logs, /api and metrics. */
  resources(): ResourceStatus[];
  /** Resolves once every loop started by start() has ended after its signal aborted. */
  done(): Promise<void>;
  /**
   * A second way to name the node(s) owning a MAC, beside the neighbour entries of Node InternalIPs: the interface
   * MACs the node evidence agents report. Returns [] when it does not know the MAC.
   */
  setMacOwners?(owners: (mac: string) => readonly string[]): void;
}
