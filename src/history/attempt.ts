import type { ProbeResult } from '../probe/types.js';

/** How a node label on an attempt was obtained. */
export type NodeHow = 'observed' | 'inferred';

/** The cluster view an attempt was made under (filled when cluster metadata is configured). */
export interface AttemptClusterContext {
  announcerNode?: string;
  announcerSource?: 'servicel2status' | 'event' | 'arp' | 'config';
  /** Ready endpoints per node. */
  endpointsPerNode: Record<string, number>;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  /** Milliseconds since the view was last confirmed by the API; undefined when never synced. */
  metadataAgeMs?: number;
  /** True when the metadata is older than allowed or the API is unreachable. */
  stale: boolean;
  /** Changes whenever announcer or endpoint placement changes; lets diagnosis spot a moving view. */
  viewVersion: string;
}

/** One probe attempt as recorded in history. */
export interface Attempt extends ProbeResult {
  seq: number;
  target: string;
  /** Epoch ms when the attempt started. */
  startedAt: number;
  /** The probe's own event loop stalled during the attempt: never blame the network for it. */
  stalled: boolean;
  /** Made during an adaptive burst. */
  burst: boolean;
  cluster?: AttemptClusterContext;
  /** Node of the backend that served a success, mapped from `backend` through EndpointSlices. */
  backendNode?: string;
  /** Node label for a failure: a node name, 'ambiguous' or 'unknown', and how it was obtained. */
  node?: string;
  nodeHow?: NodeHow;
}
