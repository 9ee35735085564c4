import type { Incident } from '../incidents/types.js';
import type { Notification } from './notification.js';
import { escapeHtml as esc } from '../lib/html.js';

const LABEL: Record<Notification['event'], string> = { open: 'OPEN', update: 'UPDATE', reminder: 'REMINDER', resolved: 'RESOLVED' };

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** `[vipwatch] OPEN asymmetric_routing web 192.0.2.100:80 — node-2`: triage from a phone's lock screen. */
export function mailSubject(n: Notification): string {
  const i = n.incident;
  const nodes = i.suspectedNodes.length ? ` — ${i.suspectedNodes.join(', ')}` : '';
  return `[vipwatch] ${n.test ? 'TEST ' : ''}${LABEL[n.event]} ${i.kind} ${i.target} ${hostPort(i)}${nodes}`;
}

export function renderMail(n: Notification): RenderedMail {
  return { subject: mailSubject(n), text: renderText(n), html: renderHtml(n) };
}

interface NodeRow {
  node: string;
  endpoints: number;
  successes: number;
  failures: string;
  note: string;
}

function nodeRows(i: Incident): NodeRow[] {
  return Object.entries(i.nodes).sort(([a], [b]) => a.localeCompare(b)).map(([node, s]) => ({
    node,
    endpoints: s.endpoints,
    successes: s.successes,
    failures: s.failures === undefined ? '-' : String(s.failures),
    note: [i.suspectedNodes.includes(node) ? 'suspected' : '', node === i.announcerNode ? 'announcer' : ''].filter(Boolean).join(', '),
  }));
}

function facts(n: Notification): [string, string][] {
  const i = n.incident;
  const rows: [string, string][] = [
    ['Status', `${LABEL[n.event]}${n.test ? ' (test message, not a real incident)' : ''}`],
    ['Kind', `${i.kind} (${i.severity}, confidence ${pct(i.confidence, 2)})`],
    ['Target', `${i.target} ${hostPort(i)}${i.service ? ` (service ${i.service})` : ''}`],
    ['Announcer', i.announcerNode ?? 'unknown'],
    ['Suspected nodes', i.suspectedNodes.length ? i.suspectedNodes.join(', ') : 'none isolated'],
    ['Failures', `${i.failures} of ${i.attempts} attempts (${pct(i.failureRatio, 1)}${i.expectedFailureRatio === null ? '' : `; ${pct(i.expectedFailureRatio, 1)} expected from the suspected nodes' share`})`],
    ['Reasons', Object.entries(i.reasons).map(([r, c]) => `${r} ${c}`).join(', ') || 'none'],
    ['Started', i.startedAt],
    ['Updated', i.updatedAt],
  ];
  if (i.resolvedAt) rows.push(['Resolved', i.resolvedAt]);
  if (i.verification) {
    const v = i.verification;
    rows.push(['Verification', `${v.attemptsSince} attempts since; nodes serving: ${v.nodesServing.join(', ') || 'none'}; not serving: ${v.nodesNotServing.join(', ') || 'none'}; all nodes served: ${v.allNodesServed ? 'yes' : 'no'}`]);
  }
  return rows;
}

function footer(n: Notification): string {
  return `Incident ${n.incident.id} · sent by vipwatch on ${n.instance} · notification ${n.id}`;
}

function renderText(n: Notification): string {
  const i = n.incident;
  const out: string[] = [`${LABEL[n.event]}: ${i.summary}`, ''];
  const width = Math.max(...facts(n).map(([k]) => k.length)) + 2;
  for (const [k, v] of facts(n)) out.push(`${(k + ':').padEnd(width)}${v}`);
  if (i.evidence.length) out.push('', 'Evidence', ...i.evidence.map((e) => `- ${e}`));
  const rows = nodeRows(i);
  if (rows.length) {
    const table = [['Node', 'Endpoints', 'Successes', 'Failures', ''], ...rows.map((r) => [r.node, String(r.endpoints), String(r.successes), r.failures, r.note])];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
    out.push('', 'Nodes', ...table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()));
  }
  if (i.remediation.length) out.push('', 'Remediation', ...i.remediation.map((r, k) => `${k + 1}. ${r}`));
  out.push('', '-- ', footer(n));
  return out.join('\n') + '\n';
}

function renderHtml(n: Notification): string {
  const i = n.incident;
  const color = n.event === 'resolved' ? '#1a7f37' : i.severity === 'critical' ? '#cf222e' : '#9a6700';
  const cell = 'style="padding:2px 10px 2px 0;text-align:left;vertical-align:top"';
  const parts: string[] = [
    '<!doctype html><html><body style="font-family:sans-serif;font-size:14px">',
    `<h2 style="color:${color};margin:0 0 8px">${esc(LABEL[n.event])}: ${esc(i.summary)}</h2>`,
    '<table>',
    ...facts(n).map(([k, v]) => `<tr><th ${cell}>${esc(k)}</th><td ${cell}>${esc(v)}</td></tr>`),
    '</table>',
  ];
  if (i.evidence.length) parts.push('<h3>Evidence</h3><ul>', ...i.evidence.map((e) => `<li>${esc(e)}</li>`), '</ul>');
  const rows = nodeRows(i);
  if (rows.length) {
    parts.push('<h3>Nodes</h3><table style="border-collapse:collapse">',
      `<tr>${['Node', 'Endpoints', 'Successes', 'Failures', ''].map((h) => `<th ${cell}>${h}</th>`).join('')}</tr>`,
      ...rows.map((r) => `<tr${r.note.includes('suspected') ? ' style="color:#cf222e;font-weight:bold"' : ''}>${[r.node, r.endpoints, r.successes, r.failures, r.note].map((c) => `<td ${cell}>${esc(String(c))}</td>`).join('')}</tr>`),
      '</table>');
  }
  if (i.remediation.length) parts.push('<h3>Remediation</h3><ol>', ...i.remediation.map((r) => `<li>${esc(r)}</li>`), '</ol>');
  parts.push(`<p style="color:#57606a;font-size:12px">${esc(footer(n))}</p>`, '</body></html>');
  return parts.join('\n');
}

function hostPort(i: Incident): string {
  return i.address.includes(':') ? `[${i.address}]:${i.port}` : `${i.address}:${i.port}`;
}

function pct(x: number, digits: number): string {
  return `${(x * 100).toFixed(digits)}%`;
}
