/**
 * externalTrafficPolicy: Local announced from a node without a ready local endpoint. kube-proxy on that node forwards
 * VIP traffic only to local endpoints (no SNAT, no hop to another node) and drops it when there is none; its
 * healthCheckNodePort answers 503 there. MetalLB's speakers announce a Local Service only from nodes with a ready local
 * endpoint, so an announcer without one means the announcement did not move (metallb/metallb#2561: a rolling update
 * moved the pod). The cluster view holds both facts; the attempts under it, all failing, confirm them.
 */
import type { Ctx, Finding } from './context.js';
import { reasonsText } from './format.js';
import type { Tally } from './tally.js';

/** The announcer, when the newest fresh placement is Local and the announcer has no ready local endpoint. */
export function etpLocalAnnouncerWithoutEndpoint(c: Ctx): string | undefined {
  const p = c.placement;
  if (!c.placementKnown || !p || p.externalTrafficPolicy !== 'Local' || !p.announcerNode) return undefined;
  return (p.endpointsPerNode[p.announcerNode] ?? 0) > 0 ? undefined : p.announcerNode;
}

/**
 * The finding for an outage (every recent attempt fails, silently) under such a placement; undefined when the
 * placement does not say so or an attempt made under it succeeded (then kube-proxy did not drop everything: the view lags).
 */
export function etpLocalFinding(c: Ctx, failing: Tally, confidence: number, evidence: readonly string[]): Finding | undefined {
  const node = etpLocalAnnouncerWithoutEndpoint(c);
  // Attempts without a cluster context of their own (the view was given) cannot say which placement they met.
  if (!node || c.used.some((a) => a.ok && a.cluster !== undefined)) return undefined;
  const p = c.placement!;
  const svc = c.input.target.service ?? c.input.view?.service ?? 'the Service';
  const eps = Object.entries(p.endpointsPerNode).sort().map(([n, k]) => `${n}: ${k}`).join(', ');
  const hc = c.input.view?.healthCheckNodePort;
  return {
    verdict: 'etp_local_no_endpoint', confidence, suspectedNodes: [node], candidateNodes: [node], expectedFailureRatio: 1,
    summary: `${c.name}: externalTrafficPolicy: Local and the announcer ${node} has no ready local endpoint: kube-proxy on ${node} drops every connection (${reasonsText(failing.reasons)})`,
    evidence: [
      ...evidence,
      `${svc} has externalTrafficPolicy: Local and ${node} announces the VIP, yet ${node} has no ready endpoint (ready endpoints per node: ${eps}): kube-proxy there forwards only to local endpoints and drops the rest.`,
      ...(c.sample.otherView ? [`All ${c.used.length} attempts since the cluster view showed this failed: the attempts under the new view decide, not the ones before it.`] : []),
      `MetalLB announces a Local Service only from nodes with a ready local endpoint: the announcement did not move to a node with one.`,
      `kube-proxy's health check on ${node}${hc ? ` (healthCheckNodePort ${hc})` : ''} should answer 503 with localEndpoints 0.`,
    ],
  };
}
