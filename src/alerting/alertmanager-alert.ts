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
  etp_local_no_endpoint: 'VipEtpLocalNoEndpoint',
  intermittent_blocks: 'VipIntermittentBlocks',
  announcement_conflict: 'VipAnnouncementConflict',
};

/**
 * The labels every alert of the notification shares. Labels decide an alert's identity in Alertmanager, so they hold
 * only what names the problem: never counts or ratios (those change while the incident lasts and go into
 * annotations). Alertmanager drops empty labels.
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

/**
 * The label sets a notification fires: one alert per suspected node, each with its `node` label, or one alert without
 * `node` when no node is suspected (vip_unreachable, packet_loss). One alert per node rather than one with a joined
 * list, so a route or a silence matches a node exactly (`node="node-2"`, not a regex over "node-2,node-3") and
 * silencing one node under maintenance leaves the alert of another node of the same incident firing. The set changes
 * as the incident's suspected nodes change: the sink ends the alerts that left it (AlertmanagerSink.alertsFor).
 */
export function alertLabelSets(n: Notification): Record<string, string>[] {
  const base = alertLabels(n);
  const nodes = [...new Set(n.incident.suspectedNodes)].filter((node) => node !== '');
  return nodes.length ? nodes.map((node) => ({ ...base, node })) : [base];
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
