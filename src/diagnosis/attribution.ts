/** Labels a failed attempt with a node, and says how the label was obtained. Never pretends certainty. */
import type { TargetClusterView } from '../cluster/types.js';
import { steadyMac, type Attempt } from '../history/attempt.js';
import { failureClass } from './tally.js';
import type { Diagnosis, FailureAttribution } from './types.js';

/**
 * - `observed`: the response itself named the backend (e.g. an http_status failure carrying the backend header).
 * - `inferred`: the diagnosis isolated one suspected node and the failure is of the kind it explains, or only one node
 *   holds endpoints; several nodes left give `ambiguous`; no cluster view at all gives `unknown`. Under
 *   etp_local_no_endpoint the announcer, which holds no endpoint, is the node a silent failure is attributed to; under
 *   announcement_conflict, the suspected node whose MAC the failed attempt went to.
 */
export function attributeFailure(attempt: Attempt, diagnosis?: Diagnosis, view?: TargetClusterView): FailureAttribution {
  const named = attempt.backendNode ?? (attempt.backend !== undefined && view ? backendNodeFromView(attempt.backend, view) : undefined);
  if (named !== undefined) return { node: named, how: 'observed' };
  const viaMac = conflictNode(attempt, diagnosis);
  if (viaMac !== undefined) return { node: viaMac, how: 'inferred' };
  const endpoints = attempt.cluster?.endpointsPerNode ?? view?.endpointsPerNode;
  if (!endpoints) return { node: 'unknown', how: 'inferred' };
  const stale = attempt.cluster?.stale ?? view?.stale ?? false;
  const nodes = Object.keys(endpoints).filter((n) => endpoints[n]! > 0);
  if (nodes.length === 0) return { node: 'unknown', how: 'inferred' };
  if (stale) return { node: 'ambiguous', how: 'inferred' };
  // The announcer without a local endpoint drops the connection itself: it holds no endpoint, yet it is the node.
  if (diagnosis?.verdict === 'etp_local_no_endpoint' && diagnosis.suspectedNodes.length === 1 && explains(diagnosis, attempt)) {
    return { node: diagnosis.suspectedNodes[0]!, how: 'inferred' };
  }
  if (nodes.length === 1) return { node: nodes[0]!, how: 'inferred' };
  if (diagnosis && diagnosis.suspectedNodes.length === 1 && explains(diagnosis, attempt)) {
    return { node: diagnosis.suspectedNodes[0]!, how: 'inferred' };
  }
  return { node: 'ambiguous', how: 'inferred' };
}

/**
 * Under announcement_conflict, a failure whose packets went to a suspected node's MAC (the entry held one MAC from start
 * to end, owned by that node alone) is that node's. A failure through another MAC is not explained by the conflict.
 */
function conflictNode(a: Attempt, d: Diagnosis | undefined): string | undefined {
  if (a.ok || d?.verdict !== 'announcement_conflict') return undefined;
  const nodes = a.cluster?.neighbour?.nodes;
  if (steadyMac(a) === undefined || nodes?.length !== 1) return undefined;
  return d.suspectedNodes.includes(nodes[0]!) ? nodes[0] : undefined;
}

/** The diagnosis is about failures like this one, made under the same cluster view. */
function explains(d: Diagnosis, a: Attempt): boolean {
  if (a.ok) return false;
  const version = a.cluster?.viewVersion ?? null;
  if (d.viewVersion !== null && version !== null && version !== d.viewVersion) return false;
  const cls = failureClass(a);
  switch (d.verdict) {
    case 'asymmetric_routing':
      return a.reason === 'connect_timeout';
    case 'backend_refused':
      return cls === 'refused';
    case 'http_errors':
      return cls === 'app';
    case 'etp_local_no_endpoint':
      return cls === 'silent' || cls === 'unreachable';
    default:
      return false;
  }
}

/** Maps a backend identity (node name, pod name or pod IP) to its node through the view's endpoints. */
export function backendNodeFromView(identity: string, view: TargetClusterView): string | undefined {
  if (identity in view.endpointsPerNode) return identity;
  for (const e of view.endpoints) {
    if (!e.node) continue;
    if (e.node === identity || e.pod === identity || e.addresses.includes(identity)) return e.node;
  }
  return undefined;
}
