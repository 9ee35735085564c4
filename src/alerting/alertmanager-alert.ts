import type { IncidentKind } from '../incidents/types.js';
import type { Notification } from './notification.js';

/** One element of Alertmanager's POST /api/v2/alerts body. */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

const ALERTNAME: Record<IncidentKind, string> = {
  asymmetric_routing: 'VipAsymmetricRouting',
  vip_unreachable: 'VipUnreachable',
  packet_loss: 'VipPacketLoss',
  backend_refused: 'VipBackendRefused',
  http_errors: 'VipHttpErrors',
};

/**
 * Labels decide an alert's identity in Alertmanager, so they hold only what names the problem: never counts
 * or nodes (those change while the incident lasts and go into annotations). Alertmanager drops empty labels.
 */
export function alertLabels(n: Notification): Record<string, string> {
  const i = n.incident;
  const labels: Record<string, string> = {
    alertname: n.test ? 'VipwatchTest' : ALERTNAME[i.kind] ?? 'VipwatchIncident',
    target: i.target,
    kind: i.kind,
    severity: i.severity,
    vipwatch_instance: n.instance,
  };
  if (i.service) labels.service = i.service;
  return labels;
}

export function alertAnnotations(n: Notification): Record<string, string> {
  const i = n.incident;
  const a: Record<string, string> = {
    summary: i.summary,
    evidence: i.evidence.join('\n'),
    remediation: i.remediation.map((r, k) => `${k + 1}. ${r}`).join('\n'),
    suspected_nodes: i.suspectedNodes.join(', '),
    incident_id: i.id,
    endpoint: i.address.includes(':') ? `[${i.address}]:${i.port}` : `${i.address}:${i.port}`,
    failure_ratio: i.failureRatio.toFixed(4),
    confidence: i.confidence.toFixed(4),
  };
  if (i.announcerNode) a.announcer_node = i.announcerNode;
  if (n.test) a.test = 'sent by vipwatch test-alert; not a real incident';
  return a;
}

export function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
