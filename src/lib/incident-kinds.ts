/**
 * The closed set of incident kinds: a public contract (config `kinds:` filters, alert labels, the incident record).
 * It sits at the bottom so that config, diagnosis and incidents can all name it without importing each other.
 */
export const INCIDENT_KINDS = [
  'asymmetric_routing', 'vip_unreachable', 'packet_loss', 'backend_refused', 'http_errors', 'etp_local_no_endpoint', 'intermittent_blocks',
  'announcement_conflict',
] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];
