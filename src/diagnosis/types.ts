import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { TargetConfig } from '../config/targets.js';
import type { TargetClusterView } from '../cluster/types.js';
import type { Attempt } from '../history/attempt.js';
import type { IncidentKind } from '../lib/incident-kinds.js';

export type Verdict = IncidentKind | 'healthy' | 'insufficient_data';

export interface DiagnoseInput {
  target: TargetConfig;
  /** Oldest first; may hold more than the window (older ones are ignored). */
  attempts: readonly Attempt[];
  /** The current cluster view; used when attempts carry no cluster context of their own. */
  view?: TargetClusterView;
  now: number;
  config: DiagnosisConfig;
  /** The newest served_again change point an earlier diagnosis of this target found (DiagnosisEngine keeps it). */
  knownFix?: KnownFix;
}

export interface DiagnosisNodeStats {
  /** Ready endpoints on the node in the placement diagnosed (0 when it only appeared as a backend). */
  endpoints: number;
  successes: number;
  /** Failures attributed to the node (observed, or inferred when the evidence isolates it). */
  failures: number;
  /** Epoch ms of the newest success it served in the window; null when none. */
  lastSuccessAt: number | null;
}

/** How the diagnosis knows which node a success came from. */
export type IdentityMode = 'backend' | 'none';

/** Where the attempt stream changed, and the attempts since (the segment that describes the present). */
export interface ChangePoint {
  /** served_again: a node the split blamed served a success (decisive for that node); recovery: a long run of successes. */
  kind: 'served_again' | 'recovery';
  /** Start (epoch ms) of the first attempt after the change. */
  at: number;
  /** Attempts since (diagnosed ones) and how many of them failed. */
  attempts: number;
  failures: number;
  /** For served_again: the node that served again. */
  node?: string;
  /** For served_again: the nodes the split blamed before it. */
  blamed?: string[];
}

/**
 * A served_again change point found by an earlier diagnosis. The attempts before it proved the drop when it was found;
 * as they age out of the window they no longer can, yet the change happened: the diagnosis keeps judging from it while
 * its attempt is in the window, instead of reading old timeouts beside new attempts as loss.
 */
export interface KnownFix {
  /** Start (epoch ms) of the success through the blamed node. */
  at: number;
  node: string;
  blamed: string[];
}

export interface Diagnosis {
  target: string;
  verdict: Verdict;
  /** 0..1: for asymmetric_routing 1 - p (capped lower without backend identity); for the others 1 - P(noise). */
  confidence: number;
  /** Nodes blamed; empty when the evidence names none. */
  suspectedNodes: string[];
  /** Nodes still compatible with the evidence when it cannot isolate one (no backend identity). */
  candidateNodes: string[];
  identity: IdentityMode;
  /** Attempts diagnosed (non-stalled, in the window, under the current cluster view). */
  attempts: number;
  failures: number;
  successes: number;
  /** Successful connects that needed a SYN retransmission (>= 1 s). */
  slowConnects: number;
  failureRatio: number;
  /** (failures + slow connects) / attempts: what packet loss shows as. */
  impairedRatio: number;
  expectedFailureRatio: number | null;
  /** The p-value of the node split (chance that healthy suspected nodes served none of the successes), when computed. */
  pValue: number | null;
  /** The last attempts all succeeded, too many for the failure rate before them: the problem stopped. */
  recovered: boolean;
  /**
   * The newest change point the diagnosis found (a blamed node serving again, or a run of successes too long for the
   * failure rate before it) and what the attempts since it show; null when none. Incidents resolve on it.
   */
  changePoint: ChangePoint | null;
  reasons: Record<string, number>;
  nodes: Record<string, DiagnosisNodeStats>;
  announcerNode: string | null;
  service: string | null;
  externalTrafficPolicy: 'Cluster' | 'Local' | null;
  /** Placement known and fresh: node-level conclusions are possible. */
  placementKnown: boolean;
  /** Attempts left out: made during a probe stall, lost to vipwatch's own resources (probe_error), under an older view. */
  excluded: { stalled: number; probeErrors: number; otherView: number };
  viewVersion: string | null;
  summary: string;
  evidence: string[];
  remediation: string[];
  /** When the diagnosis was made (epoch ms). */
  at: number;
  /** Start (epoch ms) of the newest failed attempt diagnosed; null when none failed. */
  lastFailureAt: number | null;
  /** Start (epoch ms) of the oldest attempt judged; null when none. */
  firstAttemptAt: number | null;
  /** Newest attempt seq seen (stalled included); lets incidents count attempts since a point. */
  lastSeq: number;
}

export type { FailureAttribution } from '../history/attempt.js';
