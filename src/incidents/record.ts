/** Builds and refreshes the public incident record from a diagnosis. */
import { createHash } from 'node:crypto';
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { TargetConfig } from '../config/targets.js';
import type { Diagnosis } from '../diagnosis/types.js';
import type { Incident, IncidentKind, IncidentNodeStats } from './types.js';

/** A stable id: readable target and start time, plus a short hash so ids never collide across targets. */
export function incidentId(target: string, startedAt: number): string {
  const slug = target.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 64) || 'target';
  const stamp = new Date(startedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const hash = createHash('sha256').update(`${target}\0${startedAt}`).digest('hex').slice(0, 8);
  return `${slug}-${stamp}-${hash}`;
}

export function severityOf(kind: IncidentKind, failureRatio: number, cfg: DiagnosisConfig): Incident['severity'] {
  if (kind === 'vip_unreachable') return 'critical';
  return failureRatio >= cfg.criticalRatio ? 'critical' : 'warning';
}

export function newIncident(target: TargetConfig, d: Diagnosis, kind: IncidentKind, now: number, cfg: DiagnosisConfig): Incident {
  const iso = new Date(now).toISOString();
  const inc: Incident = {
    id: incidentId(target.name, now),
    status: 'open',
    kind,
    severity: 'warning',
    target: target.name,
    address: target.address,
    port: target.port,
    service: null,
    announcerNode: null,
    suspectedNodes: [],
    confidence: 0,
    failureRatio: 0,
    expectedFailureRatio: null,
    attempts: 0,
    failures: 0,
    reasons: {},
    nodes: {},
    summary: '',
    evidence: [],
    remediation: [],
    startedAt: iso,
    updatedAt: iso,
    resolvedAt: null,
  };
  applyDiagnosis(inc, target, d, kind, now, cfg);
  return inc;
}

/** Copies the verdict's facts into the record (used at open, on update, and to refresh the numbers while it holds). */
export function applyDiagnosis(inc: Incident, target: TargetConfig, d: Diagnosis, kind: IncidentKind, now: number, cfg: DiagnosisConfig): void {
  inc.kind = kind;
  inc.address = target.address;
  inc.port = target.port;
  inc.service = d.service ?? target.service ?? null;
  inc.announcerNode = d.announcerNode;
  inc.suspectedNodes = [...d.suspectedNodes];
  inc.candidateNodes = [...d.candidateNodes];
  inc.identity = d.identity;
  inc.confidence = round(d.confidence, 6);
  inc.failureRatio = round(d.failureRatio, 4);
  inc.expectedFailureRatio = d.expectedFailureRatio === null ? null : round(d.expectedFailureRatio, 4);
  inc.attempts = d.attempts;
  inc.failures = d.failures;
  inc.reasons = { ...d.reasons };
  inc.nodes = nodeStats(d);
  inc.summary = d.summary;
  inc.evidence = [...d.evidence];
  inc.remediation = [...d.remediation];
  inc.severity = severityOf(kind, d.failureRatio, cfg);
  inc.updatedAt = new Date(now).toISOString();
}

function nodeStats(d: Diagnosis): Record<string, IncidentNodeStats> {
  const out: Record<string, IncidentNodeStats> = {};
  for (const [n, s] of Object.entries(d.nodes)) out[n] = { endpoints: s.endpoints, successes: s.successes, failures: s.failures };
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
