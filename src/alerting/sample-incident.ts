import type { Incident } from '../incidents/types.js';

/**
 * A made-up incident for `vipwatch test-alert`, marked as a test everywhere a human looks (summary, target,
 * id). Addresses are from the documentation range 192.0.2.0/24: nothing real is named.
 */
export function sampleIncident(nowMs: number, instance: string): Incident {
  const at = new Date(nowMs).toISOString();
  return {
    id: `test-${nowMs.toString(36)}`,
    status: 'open',
    kind: 'asymmetric_routing',
    severity: 'warning',
    target: 'vipwatch-test-alert',
    address: '192.0.2.100',
    port: 80,
    service: 'default/vipwatch-test',
    announcerNode: 'node-1',
    suspectedNodes: ['node-2'],
    confidence: 0.9999,
    failureRatio: 0.33,
    expectedFailureRatio: 0.33,
    attempts: 60,
    failures: 20,
    reasons: { connect_timeout: 20 },
    nodes: { 'node-1': { endpoints: 1, successes: 20, failures: 0 }, 'node-2': { endpoints: 1, successes: 0, failures: 20 }, 'node-3': { endpoints: 1, successes: 20, failures: 0 } },
    summary: `TEST from vipwatch on ${instance}: this is a test alert, not a real incident (sent by vipwatch test-alert)`,
    evidence: ['This is sample evidence: 20 of 60 connections timed out, all on backends on node-2.'],
    remediation: ['Nothing to do: this message only checks that alert delivery works.'],
    startedAt: at,
    updatedAt: at,
    resolvedAt: null,
  };
}
