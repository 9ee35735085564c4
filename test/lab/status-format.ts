import type { Incident } from '../../src/incidents/types.js';
import { sumBy, sumOf, type PromSample } from './prom-text.js';
import type { VipwatchLog } from './vipwatch-process.js';

/** Fields every log line has, or that say nothing to a person watching. */
const QUIET = new Set(['time', 'level', 'msg', 'component']);

function short(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** `07:46:17  target status changed  target=web from=healthy to=degraded`: a JSON log line as a person reads it. */
export function formatLog(l: VipwatchLog): string {
  const time = typeof l.time === 'string' ? l.time.slice(11, 19) : '';
  const level = l.level === 'info' ? '' : ` ${l.level.toUpperCase()}`;
  const fields = Object.entries(l).filter(([k, v]) => !QUIET.has(k) && v !== null && v !== undefined).map(([k, v]) => `${k}=${short(v)}`);
  return `${time}${level}  ${l.msg}${fields.length ? `  ${fields.join(' ')}` : ''}`;
}

/** The incident as vipwatch reports it: headline, summary, evidence and remediation, indented. */
export function formatIncident(i: Incident): string[] {
  const nodes = i.suspectedNodes.length ? i.suspectedNodes.join(', ') : 'none isolated';
  const out = [
    `${i.status.toUpperCase()} ${i.kind} (${i.severity}, confidence ${(i.confidence * 100).toFixed(2)}%)  target ${i.target} ${i.address}:${i.port}`,
    `  suspected node(s): ${nodes}   announcer: ${i.announcerNode ?? 'unknown'}`,
    `  failures: ${i.failures} of ${i.attempts} attempts (${(i.failureRatio * 100).toFixed(1)}%)   reasons: ${Object.entries(i.reasons).map(([r, n]) => `${r} ${n}`).join(', ') || 'none'}`,
    `  summary: ${i.summary}`,
  ];
  const perNode = Object.entries(i.nodes).sort(([a], [b]) => a.localeCompare(b));
  if (perNode.length) out.push(`  per node: ${perNode.map(([n, s]) => `${n} ${s.successes} ok${s.failures !== undefined ? `/${s.failures} failed` : ''}`).join(' · ')}`);
  if (i.evidence.length) out.push('  evidence:', ...i.evidence.map((e) => `    - ${e}`));
  if (i.remediation.length) out.push('  remediation:', ...i.remediation.map((r, k) => `    ${k + 1}. ${r}`));
  if (i.verification) {
    const v = i.verification;
    out.push(`  verification: ${v.attemptsSince} attempts since; serving: ${v.nodesServing.join(', ') || 'none'}; not serving: ${v.nodesNotServing.join(', ') || 'none'}`);
  }
  return out;
}

/**
 * A compact live status line from two scrapes of /metrics: what happened since the previous one.
 * `web  +10 attempts, 3 failed (connect_timeout 3)  served by node-1 4 · node-3 3  open: asymmetric_routing`
 */
export class StatusLine {
  private prev: PromSample[] = [];

  constructor(private readonly target: string) {}

  next(samples: PromSample[]): string {
    const t = { target: this.target };
    const delta = (name: string, match: Record<string, string> = {}) => sumOf(samples, name, { ...t, ...match }) - sumOf(this.prev, name, { ...t, ...match });
    const byDelta = (name: string, label: string) => {
      const now = sumBy(samples, name, label, t);
      const before = sumBy(this.prev, name, label, t);
      return Object.entries(now).map(([k, v]) => [k, v - (before[k] ?? 0)] as const).filter(([, v]) => v > 0).sort(([a], [b]) => a.localeCompare(b));
    };
    const attempts = delta('vipwatch_probe_attempts_total');
    const failed = delta('vipwatch_probe_attempts_total', { result: 'failure' });
    const reasons = byDelta('vipwatch_probe_failures_total', 'reason');
    const served = byDelta('vipwatch_backend_successes_total', 'node');
    const open = samples.filter((s) => s.name === 'vipwatch_incident_open' && s.labels.target === this.target && s.value > 0).map((s) => s.labels.kind);
    this.prev = samples;
    return [
      `${this.target}  +${attempts} attempts, ${failed} failed${reasons.length ? ` (${reasons.map(([r, n]) => `${r} ${n}`).join(', ')})` : ''}`,
      `served by ${served.length ? served.map(([n, v]) => `${n} ${v}`).join(' · ') : 'nobody'}`,
      `open incidents: ${open.length ? open.join(', ') : 'none'}`,
    ].join('  |  ');
  }
}
