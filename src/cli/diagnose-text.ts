/** The report of `vipwatch diagnose` for a person: verdict first, then nodes, reasons, the path taken and the fix. */
import type { DiagnoseReport, NodeRow } from './diagnose-report.js';
import { fmtP } from './diagnose-report.js';

export function reportText(r: DiagnoseReport): string[] {
  const out: string[] = [];
  out.push(`vipwatch diagnose ${r.target.display}: ${probeText(r)}`);
  out.push(runText(r));
  out.push('');
  out.push(`Verdict: ${r.verdict}${confidenceText(r)}`);
  out.push(`  ${r.summary}`);
  if (r.suspectedNodes.length) out.push(`  Suspected node${r.suspectedNodes.length === 1 ? '' : 's'}: ${r.suspectedNodes.join(', ')}`);
  else if (r.candidateNodes.length) out.push(`  Candidate nodes: ${r.candidateNodes.join(', ')}`);
  out.push('');
  out.push(...nodesText(r));
  out.push('');
  out.push('Failure reasons:');
  if (r.reasons.length) for (const x of r.reasons) out.push(`  ${x.reason.padEnd(18)} ${x.count}`);
  else out.push('  (none)');
  out.push('');
  out.push('Decision path:');
  r.decisionPath.forEach((s, i) => out.push(`  ${i + 1}. ${s}`));
  out.push('');
  out.push('Evidence:');
  for (const e of r.evidence) out.push(`  - ${e}`);
  if (r.remediation.length) {
    out.push('');
    out.push('Remediation:');
    for (const m of r.remediation) out.push(`  - ${m}`);
  }
  if (r.run.proberErrors.length) {
    out.push('');
    out.push(`vipwatch's own errors (not the VIP's; ${r.run.proberErrors.length} attempts not recorded): ${[...new Set(r.run.proberErrors)].join('; ')}`);
  }
  return out;
}

function probeText(r: DiagnoseReport): string {
  const t = r.target;
  const parts = [t.protocol === 'tcp' ? 'TCP connect' : `${t.protocol.toUpperCase()} GET ${t.path}`];
  if (t.backendHeader) parts.push(`backend header ${t.backendHeader}`);
  if (t.backendJsonField) parts.push(`backend JSON field ${t.backendJsonField}`);
  parts.push(`timeout ${t.timeoutMs} ms`);
  if (r.cluster) parts.push(`Service ${t.service} via ${r.cluster.source}`);
  else parts.push('no cluster view');
  return parts.join(', ');
}

function runText(r: DiagnoseReport): string {
  const run = r.run;
  const took = `${(run.elapsedMs / 1000).toFixed(1)} s`;
  const base = `${run.recorded} attempts in ${took} (fresh connections, ${run.spacingMs} ms apart, at most ${run.concurrency} in flight)`;
  switch (run.stop) {
    case 'healthy':
      return `${base}: stopped early after ${run.certainAfter} of ${run.requested}: healthy beyond doubt (failure ratio's upper bound below the noise floor).`;
    case 'problem':
      return `${base}: stopped early after ${run.certainAfter} of ${run.requested}: the verdict is certain (chance under "nothing is wrong" at or below pValue squared).`;
    case 'interrupted':
      return `${base}: interrupted after ${run.recorded} of ${run.requested}${run.abandoned ? ` (${run.abandoned} in flight abandoned)` : ''}; the report covers what was recorded.`;
    default:
      return `${base}: all ${run.requested} made; the verdict did not become certain earlier${r.verdict === 'healthy' ? ` (a healthy verdict is certain after ${run.healthyCertainAfter} attempts without a failure)` : ''}.`;
  }
}

function confidenceText(r: DiagnoseReport): string {
  if (r.verdict === 'insufficient_data') return '';
  if (r.verdict === 'healthy') return '';
  return ` (confidence ${r.confidence.toFixed(4)}${r.p !== null ? `, chance if nothing were wrong p=${fmtP(r.p)}` : ''})`;
}

function nodesText(r: DiagnoseReport): string[] {
  const announcer = r.cluster?.announcerNode;
  const head = `Nodes${announcer ? ` (announcer ${announcer}, marked *)` : ''}:`;
  if (!r.nodes.length) {
    return [head, r.cluster ? '  (the cluster view names no node with endpoints)' : '  (no cluster view: pass --service NAMESPACE/NAME to name nodes)',
      ...(r.failures ? [`  ${r.unattributedFailures} failures not attributed to a node`] : [])];
  }
  const rows: string[][] = [['node', 'endpoints', 'successes', 'failures', 'observed', 'inferred'], ...r.nodes.map(row)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((x) => x[i]!.length)));
  const out = [head, ...rows.map((x) => `  ${x.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}`)];
  if (r.unattributedFailures) out.push(`  ${r.unattributedFailures} failure${r.unattributedFailures === 1 ? '' : 's'} not attributed to a node (several nodes remain possible)`);
  out.push('  observed: the response named the node; inferred: the evidence isolates it.');
  return out;
}

function row(n: NodeRow): string[] {
  return [`${n.node}${n.announcer ? '*' : ''}`, String(n.endpoints), String(n.successes), String(n.failures), String(n.observed), String(n.inferred)];
}
