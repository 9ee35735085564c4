/**
 * What `vipwatch diagnose` reports, built once from the run and its diagnosis; diagnose-text.ts and diagnose-json.ts
 * only render it. The exit code is decided here: 0 healthy, 1 a problem found, 2 could not run (too few usable
 * attempts to say anything).
 */
import type { Diagnosis } from '../diagnosis/types.js';
import type { DiagnoseOptions } from './diagnose-args.js';
import type { RunOutcome, StopReason } from './diagnose-runner.js';
import { healthyAttemptsNeeded, nullChance } from './diagnose-stop.js';
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';

/** diagnose's exit codes (README): a healthy VIP, a problem found, could not run (usage, address, cluster view, nothing judged). */
export const DIAGNOSE_EXIT = { healthy: 0, problem: 1, couldNotRun: 2 } as const;

export interface NodeRow {
  node: string;
  /** Ready endpoints on the node (0 when it only appeared as a backend). */
  endpoints: number;
  announcer: boolean;
  successes: number;
  /** Failures the diagnosis attributes to the node ... */
  failures: number;
  /** ... of which the response itself named the node (e.g. a 500 carrying the backend header) ... */
  observed: number;
  /** ... and the rest, inferred from the evidence (the node isolated by the split, or the only node with endpoints). */
  inferred: number;
  lastSuccessAt: number | null;
}

export interface DiagnoseReport {
  target: {
    display: string;
    address: string;
    port: number;
    protocol: string;
    path: string | null;
    backendHeader: string | null;
    backendJsonField: string | null;
    service: string | null;
    timeoutMs: number;
  };
  cluster: { source: string; announcerNode: string | null; externalTrafficPolicy: string | null } | null;
  run: {
    requested: number;
    recorded: number;
    started: number;
    abandoned: number;
    stop: StopReason;
    /** Attempts the certain verdict took (an early stop); null when the run went to --count or was interrupted. */
    certainAfter: number | null;
    elapsedMs: number;
    concurrency: number;
    spacingMs: number;
    /** Attempts without a failure after which a healthy verdict is certain (the early stop's floor). */
    healthyCertainAfter: number;
    proberErrors: string[];
  };
  exitCode: number;
  verdict: Diagnosis['verdict'];
  confidence: number;
  /** The verdict's chance under "nothing is wrong" (its p-value, or 1 - confidence); null for healthy verdicts. */
  p: number | null;
  summary: string;
  suspectedNodes: string[];
  candidateNodes: string[];
  identity: Diagnosis['identity'];
  attempts: number;
  successes: number;
  failures: number;
  failureRatio: number;
  reasons: { reason: string; count: number }[];
  nodes: NodeRow[];
  /** Failures no node could be named for (several nodes remain, or no cluster view). */
  unattributedFailures: number;
  decisionPath: string[];
  evidence: string[];
  remediation: string[];
  diagnosis: Diagnosis;
}

export interface ReportInput {
  opts: DiagnoseOptions;
  outcome: RunOutcome;
  config: DiagnosisConfig;
  /** Where the cluster view came from; undefined without --service. */
  clusterSource?: string;
}

export function buildReport({ opts, outcome, config, clusterSource }: ReportInput): DiagnoseReport {
  const d = outcome.diagnosis;
  const t = opts.target;
  const nodes = nodeRows(d, outcome);
  const attributed = nodes.reduce((s, n) => s + n.failures, 0);
  return {
    target: {
      display: t.name, address: t.address, port: t.port, protocol: t.protocol, path: t.http?.path ?? null,
      backendHeader: t.http?.backendHeader ?? null, backendJsonField: t.http?.backendJsonField ?? null, service: t.service ?? null, timeoutMs: t.timeoutMs,
    },
    cluster: clusterSource === undefined ? null : { source: clusterSource, announcerNode: d.announcerNode, externalTrafficPolicy: d.externalTrafficPolicy },
    run: {
      requested: opts.count,
      recorded: outcome.attempts.length,
      started: outcome.started,
      abandoned: outcome.abandoned,
      stop: outcome.stop,
      certainAfter: outcome.stop === 'healthy' || outcome.stop === 'problem' ? outcome.attempts.length : null,
      elapsedMs: Math.round(outcome.elapsedMs),
      concurrency: opts.concurrency,
      spacingMs: opts.spacingMs,
      healthyCertainAfter: healthyAttemptsNeeded(config),
      proberErrors: outcome.proberErrors,
    },
    exitCode: exitCodeFor(d),
    verdict: d.verdict,
    confidence: d.confidence,
    p: d.verdict === 'healthy' || d.verdict === 'insufficient_data' ? null : nullChance(d),
    summary: d.summary,
    suspectedNodes: d.suspectedNodes,
    candidateNodes: d.candidateNodes,
    identity: d.identity,
    attempts: d.attempts,
    successes: d.successes,
    failures: d.failures,
    failureRatio: d.failureRatio,
    reasons: Object.entries(d.reasons).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([reason, count]) => ({ reason, count })),
    nodes,
    unattributedFailures: Math.max(0, d.failures - attributed),
    decisionPath: decisionPath(d),
    evidence: d.evidence,
    remediation: d.remediation,
    diagnosis: d,
  };
}

/** 0 healthy; 1 a kind named, or failures above the noise the diagnosis could not yet explain; 2 nothing to judge. */
export function exitCodeFor(d: Pick<Diagnosis, 'verdict' | 'failures'>): number {
  if (d.verdict === 'healthy') return DIAGNOSE_EXIT.healthy;
  if (d.verdict === 'insufficient_data') return d.failures > 0 ? DIAGNOSE_EXIT.problem : DIAGNOSE_EXIT.couldNotRun;
  return DIAGNOSE_EXIT.problem;
}

function nodeRows(d: Diagnosis, outcome: RunOutcome): NodeRow[] {
  const observed = new Map<string, number>();
  for (const node of outcome.observedNodes.values()) observed.set(node, (observed.get(node) ?? 0) + 1);
  return Object.entries(d.nodes).map(([node, s]) => {
    const seen = Math.min(s.failures, observed.get(node) ?? 0);
    return {
      node, endpoints: s.endpoints, announcer: node === d.announcerNode, successes: s.successes, failures: s.failures,
      observed: seen, inferred: s.failures - seen, lastSuccessAt: s.lastSuccessAt,
    };
  });
}

/**
 * The troubleshooting guide's decision tree, as this run went through it: does it work at all, how do the failures
 * fail, are they tied to nodes, and the verdict. The diagnosis's own evidence follows it in the report.
 */
export function decisionPath(d: Diagnosis): string[] {
  const out: string[] = [];
  if (d.attempts === 0) return ['No attempt could be judged.'];
  const ok = d.successes;
  out.push(ok === 0
    ? `Works at all? No: none of ${d.attempts} attempts succeeded${d.verdict === 'vip_unreachable' ? ': it never works, so check other layers first' : ''}.`
    : d.failures === 0
      ? `Works at all? Yes: all ${d.attempts} attempts succeeded.`
      : `Works at all? Sometimes: ${ok} of ${d.attempts} attempts succeeded (intermittent).`);
  if (d.failures > 0) out.push(`How do the failures fail? ${failureKind(d.reasons)}.`);
  if (d.failures > 0 && ok > 0) {
    if (d.suspectedNodes.length) {
      out.push(`Tied to nodes? Yes: ${d.suspectedNodes.join(', ')}${d.pValue !== null ? ` (chance if healthy p=${fmtP(d.pValue)})` : ''}.`);
    } else if (d.identity === 'none' || !d.placementKnown) {
      out.push(`Tied to nodes? Cannot tell directly: ${!d.placementKnown ? 'no fresh cluster view (--service)' : 'the responses do not name their backend (--backend-header)'}${d.candidateNodes.length ? `; candidates ${d.candidateNodes.join(', ')}` : ''}.`);
    } else out.push('Tied to nodes? No node stands out: every node with endpoints served.');
  }
  out.push(`Verdict: ${d.verdict}${d.verdict === 'healthy' || d.verdict === 'insufficient_data' ? '' : ` (confidence ${d.confidence.toFixed(4)})`}.`);
  return out;
}

function failureKind(reasons: Record<string, number>): string {
  const n = (r: string) => reasons[r] ?? 0;
  const total = Object.values(reasons).reduce((a, b) => a + b, 0);
  const silent = n('connect_timeout');
  const rst = n('refused') + n('reset');
  const parts = Object.entries(reasons).sort((a, b) => b[1] - a[1]).map(([r, c]) => `${r} x${c}`).join(', ');
  if (silent * 2 > total) return `mostly connect timeouts (${parts}): SYN sent, no SYN-ACK, no RST: a silent drop (the rp_filter signature)`;
  if (rst * 2 > total) return `mostly refusals/resets (${parts}): something answered with RST: not an rp_filter drop`;
  if (n('unreachable') + n('dns') > total / 2) return `mostly unreachable (${parts}): no route, ARP or name`;
  return `${parts}`;
}

export function fmtP(p: number): string {
  if (p === 0) return '0';
  return p >= 0.01 ? p.toFixed(2) : p.toExponential(1);
}
