import type { Incident, IncidentEvent, IncidentEventType } from '../../src/incidents/types.js';

/** An incident record as the incidents module emits it (the public contract), with overrides. */
export function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-web-asym-1',
    status: 'open',
    kind: 'asymmetric_routing',
    severity: 'critical',
    target: 'web',
    address: '192.0.2.100',
    port: 80,
    service: 'default/web',
    announcerNode: 'node-1',
    suspectedNodes: ['node-2'],
    confidence: 0.9999,
    failureRatio: 0.31,
    expectedFailureRatio: 0.333,
    attempts: 48,
    failures: 15,
    reasons: { connect_timeout: 15 },
    nodes: { 'node-1': { endpoints: 1, successes: 17, failures: 0 }, 'node-2': { endpoints: 1, successes: 0, failures: 15 }, 'node-3': { endpoints: 1, successes: 16, failures: 0 } },
    summary: 'web 192.0.2.100:80: connections through node-2 time out (asymmetric routing, rp_filter)',
    evidence: ['15 of 48 attempts timed out in connect (SYN sent, no SYN-ACK)', 'node-2 served 0 of 33 successes; chance if healthy 1.5e-6'],
    remediation: ['Check rp_filter on node-2: sysctl net.ipv4.conf.all.rp_filter', 'Set loose mode: sysctl -w net.ipv4.conf.all.rp_filter=2 and persist it in /etc/sysctl.d/'],
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    resolvedAt: null,
    ...over,
  };
}

export function event(type: IncidentEventType, over: Partial<Incident> = {}, at = Date.parse('2026-01-01T00:00:00.000Z')): IncidentEvent {
  const resolved = type === 'resolved';
  return {
    type,
    at,
    incident: incident({
      status: resolved ? 'resolved' : 'open',
      resolvedAt: resolved ? new Date(at).toISOString() : null,
      ...(resolved ? { verification: { attemptsSince: 40, nodesServing: ['node-1', 'node-2', 'node-3'], nodesNotServing: [], allNodesServed: true } } : {}),
      ...over,
    }),
  };
}
