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
}

/**
 * The cluster metadata seen by the rest of vipwatch. Implemented by the Kubernetes client (src/cluster),
 * consumed by the scheduler (per-attempt context), diagnosis and the API.
 */
export interface ClusterSource {
  start(signal: AbortSignal): Promise<void>;
  viewFor(target: TargetConfig): TargetClusterView | undefined;
  /** The per-attempt snapshot recorded on each attempt. */
  contextFor(target: TargetConfig): AttemptClusterContext | undefined;
  /** Maps a backend identity (node name, pod name or pod IP) to its node. */
  backendNode(target: TargetConfig, identity: string): string | undefined;
  /** Targets discovered from annotated LoadBalancer Services (empty when discovery is off). */
  discoveredTargets(): TargetConfig[];
  /** Called whenever discovered targets change. */
  onTargetsChanged(listener: () => void): void;
}
