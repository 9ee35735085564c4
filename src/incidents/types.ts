/** The incident record: a public contract, sent as is by every alert sink. */
import type { KernelNodeEvidence } from '../evidence/types.js';
import type { IncidentKind } from '../lib/incident-kinds.js';

export { INCIDENT_KINDS, type IncidentKind } from '../lib/incident-kinds.js';

export interface IncidentNodeStats {
  endpoints: number;
  successes: number;
  failures?: number;
}

export type { KernelInterface, KernelNodeEvidence } from '../evidence/types.js';

export interface Incident {
  id: string;
  status: 'open' | 'resolved';
  kind: IncidentKind;
  severity: 'critical' | 'warning';
  target: string;
  address: string;
  port: number;
  service: string | null;
  announcerNode: string | null;
  suspectedNodes: string[];
  confidence: number;
  failureRatio: number;
  expectedFailureRatio: number | null;
  attempts: number;
  failures: number;
  reasons: Record<string, number>;
  nodes: Record<string, IncidentNodeStats>;
  summary: string;
  evidence: string[];
  remediation: string[];
  startedAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  /** Filled on resolve: how the recovery was verified. */
  verification?: {
    attemptsSince: number;
    nodesServing: string[];
    nodesNotServing: string[];
    allNodesServed: boolean;
    /** backend_identity: successes named their node; failure_ratio: only the ratio could be checked; none: not verified. */
    verifiedBy?: 'backend_identity' | 'failure_ratio' | 'none';
    /** The change point the attempts counted start at (ISO), when resolved by the test. */
    since?: string;
    /** Chance of so few failures since then at the incident's failure ratio (the test passed at pValue). */
    pValue?: number;
  };
  /** Why it was resolved: the failures stopped, or the target left the configuration / discovery. */
  resolvedReason?: 'recovered' | 'target_removed';
  /** Candidate nodes when the evidence cannot isolate one (no backend identity). */
  candidateNodes?: string[];
  /** How node-level evidence was obtained: responses named their backend, or not. */
  identity?: 'backend' | 'none';
  /** Per node (the suspected ones, and the announcer): what its own kernel says, when node evidence agents are configured. */
  kernel?: Record<string, KernelNodeEvidence>;
  /** Times the fault came back within reopenWithin after a resolve and re-opened this incident (absent: never). */
  reopens?: number;
  /** When it was last re-opened. */
  reopenedAt?: string;
}

export type IncidentEventType = 'open' | 'update' | 'reminder' | 'resolved';

export interface IncidentEvent {
  type: IncidentEventType;
  incident: Incident;
  /** Epoch ms when the event happened. */
  at: number;
}
