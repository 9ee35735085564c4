/**
 * The incident record read back from disk (incident store, notification outbox) is checked field by field
 * against the public contract in types.ts before it is trusted: a record that parses but has the wrong shape
 * would otherwise be restored into the running state or retried against every sink for a day.
 * Only known fields are copied, so nothing unexpected is ever sent on.
 */
import { INCIDENT_KINDS, type Incident, type IncidentNodeStats, type KernelNodeEvidence } from './types.js';

/** A record that parsed but is not an incident; `message` names the first bad field. */
export class ShapeError extends Error {
  constructor(readonly field: string, what: string, got: unknown) {
    super(`${field}: must be ${what}, got ${show(got)}`);
    this.name = 'ShapeError';
  }
}

/** ISO 8601 as Date#toISOString writes it (the only form vipwatch writes); fractional seconds optional. */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function isIsoDate(v: unknown): v is string {
  return typeof v === 'string' && ISO.test(v) && !Number.isNaN(Date.parse(v));
}

/** Checks every field of an incident (at `at`, for messages) and returns a copy holding only the known ones. */
export function checkIncident(raw: unknown, at = 'incident'): Incident {
  const o = obj(raw, at);
  const f = (k: string) => `${at}.${k}`;
  const inc: Incident = {
    id: nonEmpty(o.id, f('id')),
    status: oneOf(o.status, ['open', 'resolved'] as const, f('status')),
    kind: oneOf(o.kind, INCIDENT_KINDS, f('kind')),
    severity: oneOf(o.severity, ['critical', 'warning'] as const, f('severity')),
    target: nonEmpty(o.target, f('target')),
    address: str(o.address, f('address')),
    port: int(o.port, f('port'), 0, 65535),
    service: nullable(o.service, f('service'), str),
    announcerNode: nullable(o.announcerNode, f('announcerNode'), str),
    suspectedNodes: strings(o.suspectedNodes, f('suspectedNodes')),
    confidence: ratio(o.confidence, f('confidence')),
    failureRatio: ratio(o.failureRatio, f('failureRatio')),
    expectedFailureRatio: nullable(o.expectedFailureRatio, f('expectedFailureRatio'), ratio),
    attempts: int(o.attempts, f('attempts')),
    failures: int(o.failures, f('failures')),
    reasons: counts(o.reasons, f('reasons')),
    nodes: nodes(o.nodes, f('nodes')),
    summary: str(o.summary, f('summary')),
    evidence: strings(o.evidence, f('evidence')),
    remediation: strings(o.remediation, f('remediation')),
    startedAt: date(o.startedAt, f('startedAt')),
    updatedAt: date(o.updatedAt, f('updatedAt')),
    resolvedAt: nullable(o.resolvedAt, f('resolvedAt'), date),
  };
  if (inc.status === 'open' && inc.resolvedAt !== null) throw new ShapeError(f('resolvedAt'), 'null while the incident is open', inc.resolvedAt);
  if (o.verification !== undefined) inc.verification = verification(o.verification, f('verification'));
  if (o.resolvedReason !== undefined) inc.resolvedReason = oneOf(o.resolvedReason, ['recovered', 'target_removed'] as const, f('resolvedReason'));
  if (o.candidateNodes !== undefined) inc.candidateNodes = strings(o.candidateNodes, f('candidateNodes'));
  if (o.identity !== undefined) inc.identity = oneOf(o.identity, ['backend', 'none'] as const, f('identity'));
  if (o.kernel !== undefined) inc.kernel = kernel(o.kernel, f('kernel'));
  if (o.reopens !== undefined) inc.reopens = int(o.reopens, f('reopens'));
  if (o.reopenedAt !== undefined) inc.reopenedAt = date(o.reopenedAt, f('reopenedAt'));
  return inc;
}

function verification(raw: unknown, at: string): NonNullable<Incident['verification']> {
  const o = obj(raw, at);
  const v: NonNullable<Incident['verification']> = {
    attemptsSince: int(o.attemptsSince, `${at}.attemptsSince`),
    nodesServing: strings(o.nodesServing, `${at}.nodesServing`),
    nodesNotServing: strings(o.nodesNotServing, `${at}.nodesNotServing`),
    allNodesServed: bool(o.allNodesServed, `${at}.allNodesServed`),
  };
  if (o.verifiedBy !== undefined) v.verifiedBy = oneOf(o.verifiedBy, ['backend_identity', 'failure_ratio', 'none'] as const, `${at}.verifiedBy`);
  if (o.since !== undefined) v.since = date(o.since, `${at}.since`);
  if (o.pValue !== undefined) v.pValue = ratio(o.pValue, `${at}.pValue`);
  return v;
}

function kernel(raw: unknown, at: string): NonNullable<Incident['kernel']> {
  const out: NonNullable<Incident['kernel']> = {};
  for (const [node, v] of Object.entries(obj(raw, at))) {
    const p = `${at}[${JSON.stringify(node)}]`;
    const o = obj(v, p);
    const interfaces: KernelNodeEvidence['interfaces'] = {};
    for (const [name, i] of Object.entries(obj(o.interfaces, `${p}.interfaces`))) {
      const rp = obj(obj(i, `${p}.interfaces.${name}`).rpFilter, `${p}.interfaces.${name}.rpFilter`);
      const n = (k: string) => int(rp[k], `${p}.interfaces.${name}.rpFilter.${k}`, 0, 2);
      interfaces[name] = { rpFilter: { all: n('all'), default: n('default'), interface: n('interface'), effective: n('effective') } };
    }
    const e: KernelNodeEvidence = {
      agent: oneOf(o.agent, ['ok', 'unreachable'] as const, `${p}.agent`),
      interfaces,
      strictInterfaces: strings(o.strictInterfaces, `${p}.strictInterfaces`),
      reversePathDrops: nullable(o.reversePathDrops, `${p}.reversePathDrops`, int),
      reversePathDropsSinceOpen: nullable(o.reversePathDropsSinceOpen, `${p}.reversePathDropsSinceOpen`, int),
    };
    if (o.readAt !== undefined) e.readAt = date(o.readAt, `${p}.readAt`);
    if (o.lastRiseAt !== undefined) e.lastRiseAt = date(o.lastRiseAt, `${p}.lastRiseAt`);
    if (o.error !== undefined) e.error = str(o.error, `${p}.error`);
    out[node] = e;
  }
  return out;
}

function nodes(raw: unknown, at: string): Record<string, IncidentNodeStats> {
  const out: Record<string, IncidentNodeStats> = {};
  for (const [name, v] of Object.entries(obj(raw, at))) {
    const o = obj(v, `${at}[${JSON.stringify(name)}]`);
    const s: IncidentNodeStats = { endpoints: int(o.endpoints, `${at}.${name}.endpoints`), successes: int(o.successes, `${at}.${name}.successes`) };
    if (o.failures !== undefined) s.failures = int(o.failures, `${at}.${name}.failures`);
    out[name] = s;
  }
  return out;
}

function counts(raw: unknown, at: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(raw, at))) out[k] = int(v, `${at}.${k}`);
  return out;
}

function obj(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(at, 'an object', v);
  return v as Record<string, unknown>;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new ShapeError(at, 'a string', v);
  return v;
}

function nonEmpty(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '') throw new ShapeError(at, 'a non-empty string', v);
  return v;
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new ShapeError(at, 'true or false', v);
  return v;
}

function int(v: unknown, at: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new ShapeError(at, `an integer from ${min} to ${max}`, v);
  return v;
}

function ratio(v: unknown, at: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ShapeError(at, 'a number from 0 to 1', v);
  return v;
}

function date(v: unknown, at: string): string {
  if (!isIsoDate(v)) throw new ShapeError(at, 'an ISO 8601 UTC time like 2026-01-01T00:00:00.000Z', v);
  return v;
}

function strings(v: unknown, at: string): string[] {
  if (!Array.isArray(v)) throw new ShapeError(at, 'a list of strings', v);
  return v.map((x, i) => str(x, `${at}[${i}]`));
}

function oneOf<T extends string>(v: unknown, values: readonly T[], at: string): T {
  if (!(values as readonly unknown[]).includes(v)) throw new ShapeError(at, `one of ${values.join(', ')}`, v);
  return v as T;
}

function nullable<T>(v: unknown, at: string, check: (v: unknown, at: string) => T): T | null {
  return v === null ? null : check(v, at);
}

/** A short rendering for messages: records may hold anything, so never the whole value. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
