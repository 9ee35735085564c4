import type { TargetConfig } from '../config/targets.js';
import type { TargetHistory } from '../history/history.js';
import type { Incident } from '../incidents/types.js';
import { zonedDate } from './digest-zone.js';

/** What a digest covers: the 24 hours before it was made. */
export const DIGEST_SPAN_MS = 24 * 3_600_000;

/** Failures are attributed to these when no single node could be named: never "the worst node". */
const NOT_A_NODE = new Set(['ambiguous', 'unknown']);

/** A node and the failures attributed to it over the day. */
export interface DigestNode {
  node: string;
  /**
   * Failures attributed to it: per target, the larger of what the attempts still held attribute to it and what the
   * day's incidents counted for it (each sees part of the day, so this is a lower bound), summed over targets.
   */
  failures: number;
  /** Incidents of the day that suspected it. */
  incidents: number;
  /** Targets where it had failures or was suspected. */
  targets: string[];
}

export interface DigestAnnouncerChange {
  at: string;
  from: string | null;
  to: string | null;
}

export interface DigestTarget {
  target: string;
  address: string;
  port: number;
  protocol: string;
  service: string | null;
  attempts: number;
  failures: number;
  /** Failures that were connect timeouts (the asymmetric-routing signature). */
  timeouts: number;
  /** Successes over attempts, 0-1; null when nothing was attempted. */
  availability: number | null;
  incidents: number;
  worstNode: DigestNode | null;
  /** The announcing node now, as the newest attempt saw it. */
  announcer: string | null;
  announcerChanges: DigestAnnouncerChange[];
}

export interface DigestIncident {
  id: string;
  target: string;
  kind: Incident['kind'];
  severity: Incident['severity'];
  status: Incident['status'];
  suspectedNodes: string[];
  /** Nodes still in question when no single one could be isolated. */
  candidateNodes: string[];
  announcerNode: string | null;
  summary: string;
  startedAt: string;
  resolvedAt: string | null;
  /** Until resolved, or until the digest was made for one still open. */
  durationMs: number;
  reopens: number;
}

/** The daily digest: the webhook body as is, and what the email renders. */
export interface Digest {
  /** Idempotency key: the same on every retry of this digest, also after a restart. */
  id: string;
  instance: string;
  /** The day it is dated, in its time zone (YYYY-MM-DD). */
  date: string;
  timezone: string;
  from: string;
  to: string;
  /** No target had a failure and no incident touched the day. */
  quiet: boolean;
  totals: { targets: number; attempts: number; failures: number; availability: number | null; incidents: number; openIncidents: number };
  worstNode: DigestNode | null;
  targets: DigestTarget[];
  incidents: DigestIncident[];
}

/** Where a digest reads: the scheduler's targets and histories, and the incident service's records. */
export interface DigestSources {
  targets(): readonly TargetConfig[];
  history(name: string): TargetHistory | undefined;
  /** Every incident known, open and resolved (IncidentService.list(true)). */
  incidents(): readonly Incident[];
}

export interface DigestMeta {
  id: string;
  instance: string;
  timezone: string;
  now: number;
}

/** Sums up the 24 hours before `now`: per target, the incidents that touched the window, the worst node. */
export function buildDigest(src: DigestSources, meta: DigestMeta): Digest {
  const { now } = meta;
  const from = now - DIGEST_SPAN_MS;
  const incidents = src.incidents().filter((i) => touches(i, from, now)).sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || a.id.localeCompare(b.id));
  const targets = src.targets().map((t) => summariseTarget(t, src.history(t.name), incidents.filter((i) => i.target === t.name), from, now));
  targets.sort((a, b) => (a.availability ?? 2) - (b.availability ?? 2) || a.target.localeCompare(b.target));
  const attempts = targets.reduce((s, t) => s + t.attempts, 0);
  const failures = targets.reduce((s, t) => s + t.failures, 0);
  return {
    id: meta.id,
    instance: meta.instance,
    date: zonedDate(now, meta.timezone),
    timezone: meta.timezone,
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    quiet: failures === 0 && incidents.length === 0,
    totals: {
      targets: targets.length, attempts, failures, availability: attempts ? (attempts - failures) / attempts : null,
      incidents: incidents.length, openIncidents: incidents.filter((i) => i.status === 'open').length,
    },
    worstNode: worst(mergeNodes(targets.map((t) => t.worstNodes))),
    targets: targets.map(({ worstNodes: _, ...t }) => t),
    incidents: incidents.map((i) => digestIncident(i, now)),
  };
}

/** Open at some moment of [from, now]: still open, or resolved after `from`, and started before `now`. */
function touches(i: Incident, from: number, now: number): boolean {
  if (Date.parse(i.startedAt) > now) return false;
  return i.status === 'open' || i.resolvedAt === null || Date.parse(i.resolvedAt) >= from;
}

function digestIncident(i: Incident, now: number): DigestIncident {
  const end = i.resolvedAt === null ? now : Date.parse(i.resolvedAt);
  return {
    id: i.id, target: i.target, kind: i.kind, severity: i.severity, status: i.status,
    suspectedNodes: [...i.suspectedNodes], candidateNodes: [...(i.candidateNodes ?? [])], announcerNode: i.announcerNode,
    summary: i.summary, startedAt: i.startedAt, resolvedAt: i.resolvedAt,
    durationMs: Math.max(0, end - Date.parse(i.startedAt)), reopens: i.reopens ?? 0,
  };
}

type TargetSummary = DigestTarget & { worstNodes: Map<string, DigestNode> };

function summariseTarget(t: TargetConfig, h: TargetHistory | undefined, incidents: Incident[], from: number, now: number): TargetSummary {
  const totals = h ? h.series.totals24h(now) : { attempts: 0, failures: 0, timeouts: 0 };
  const nodes = nodeFailures(t.name, h, incidents);
  return {
    target: t.name, address: t.address, port: t.port, protocol: t.protocol, service: t.service ?? null,
    attempts: totals.attempts, failures: totals.failures, timeouts: totals.timeouts,
    availability: totals.attempts ? (totals.attempts - totals.failures) / totals.attempts : null,
    incidents: incidents.length,
    worstNode: worst(nodes),
    announcer: h?.announcers.current() ?? null,
    announcerChanges: h ? announcerChanges(h, from, now) : [],
    worstNodes: nodes,
  };
}

/** Per node of one target: the larger of the held attempts' attributions and the incidents' own per-node failures. */
function nodeFailures(target: string, h: TargetHistory | undefined, incidents: Incident[]): Map<string, DigestNode> {
  const out = new Map<string, DigestNode>();
  const get = (node: string) => {
    let n = out.get(node);
    if (!n) out.set(node, (n = { node, failures: 0, incidents: 0, targets: [target] }));
    return n;
  };
  for (const [node, c] of Object.entries(h?.nodeCounts(undefined) ?? {})) if (c.failures > 0 && !NOT_A_NODE.has(node)) get(node).failures = c.failures;
  const fromIncidents = new Map<string, number>();
  for (const i of incidents) {
    for (const node of i.suspectedNodes) get(node).incidents++;
    for (const [node, s] of Object.entries(i.nodes)) if (s.failures && !NOT_A_NODE.has(node)) fromIncidents.set(node, (fromIncidents.get(node) ?? 0) + s.failures);
  }
  for (const [node, f] of fromIncidents) if (f > get(node).failures) get(node).failures = f;
  return out;
}

function mergeNodes(perTarget: Map<string, DigestNode>[]): Map<string, DigestNode> {
  const out = new Map<string, DigestNode>();
  for (const m of perTarget) {
    for (const n of m.values()) {
      const o = out.get(n.node);
      if (!o) out.set(n.node, { ...n, targets: [...n.targets] });
      else {
        o.failures += n.failures;
        o.incidents += n.incidents;
        o.targets.push(...n.targets);
      }
    }
  }
  return out;
}

/** Most failures, then most incidents suspecting it, then by name; a node with neither is no one's worst. */
function worst(nodes: Map<string, DigestNode>): DigestNode | null {
  let best: DigestNode | null = null;
  for (const n of nodes.values()) {
    if (n.failures === 0 && n.incidents === 0) continue;
    if (!best || n.failures > best.failures || (n.failures === best.failures && (n.incidents > best.incidents || (n.incidents === best.incidents && n.node < best.node)))) best = n;
  }
  return best && { ...best, targets: [...best.targets].sort() };
}

/** Each change of announcer inside the window, with the node before it (the first one ever seen is no change). */
function announcerChanges(h: TargetHistory, from: number, now: number): DigestAnnouncerChange[] {
  const list = h.announcers.list(now);
  const out: DigestAnnouncerChange[] = [];
  for (let k = 1; k < list.length; k++) {
    if (list[k]!.at <= from) continue;
    out.push({ at: new Date(list[k]!.at).toISOString(), from: list[k - 1]!.node, to: list[k]!.node });
  }
  return out;
}
