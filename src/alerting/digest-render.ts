import { escapeHtml as esc } from '../lib/html.js';
import type { Digest, DigestIncident, DigestNode, DigestTarget } from './digest.js';
import { zonedStamp } from './digest-zone.js';

export interface RenderedDigest {
  subject: string;
  text: string;
  html: string;
}

/** `[vipwatch] digest 2026-01-15 — 3 targets, 1 incident`. */
export function digestSubject(d: Digest): string {
  return `[vipwatch] digest ${d.date} — ${count(d.totals.targets, 'target')}, ${count(d.totals.incidents, 'incident')}`;
}

export function renderDigestMail(d: Digest): RenderedDigest {
  return { subject: digestSubject(d), text: renderText(d), html: renderHtml(d) };
}

/** `99.99%`: never rounds a failure up to 100%. */
export function availabilityText(a: number | null): string {
  if (a === null) return 'no attempts';
  if (a === 1) return '100%';
  const s = (a * 100).toFixed(2);
  return `${s === '100.00' ? '99.99' : s}%`;
}

/** `1 h 30 min`, `45 min`, `2 d 3 h`, `<1 min`. */
export function durationText(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 1) return '<1 min';
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  const m = min % 60;
  if (d) return h ? `${d} d ${h} h` : `${d} d`;
  if (h) return m ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

function count(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}

function nodeText(n: DigestNode | null): string {
  if (!n) return 'none';
  const why = [n.failures ? `${count(n.failures, 'failure')} attributed` : '', n.incidents ? `suspected by ${count(n.incidents, 'incident')}` : ''].filter(Boolean).join(', ');
  return `${n.node} (${why}; ${n.targets.join(', ')})`;
}

function facts(d: Digest): [string, string][] {
  const t = d.totals;
  return [
    ['Period', `${zonedStamp(Date.parse(d.from), d.timezone)} to ${zonedStamp(Date.parse(d.to), d.timezone)} (${d.timezone})`],
    ['Targets', `${t.targets}, ${availabilityText(t.availability)} available (${count(t.failures, 'failure')} in ${count(t.attempts, 'attempt')})`],
    ['Incidents', `${t.incidents}${t.incidents ? ` (${t.openIncidents} still open)` : ''}`],
    ['Worst node', nodeText(d.worstNode)],
  ];
}

function hostPort(t: DigestTarget): string {
  return t.address.includes(':') ? `[${t.address}]:${t.port}` : `${t.address}:${t.port}`;
}

const TARGET_HEAD = ['Target', 'Address', 'Attempts', 'Failures', 'Availability', 'Incidents', 'Worst node', 'Announcer'];

function targetRow(t: DigestTarget): string[] {
  return [
    t.target, hostPort(t), String(t.attempts), String(t.failures), availabilityText(t.availability), String(t.incidents),
    t.worstNode ? `${t.worstNode.node} (${t.worstNode.failures})` : '-', t.announcer ?? '-',
  ];
}

function incidentLine(i: DigestIncident, tz: string): string {
  const nodes = i.suspectedNodes.length ? i.suspectedNodes.join(', ') : i.candidateNodes.length ? `one of ${i.candidateNodes.join(', ')}` : 'none isolated';
  const when = i.resolvedAt === null
    ? `open for ${durationText(i.durationMs)} (since ${zonedStamp(Date.parse(i.startedAt), tz)})`
    : `lasted ${durationText(i.durationMs)} (${zonedStamp(Date.parse(i.startedAt), tz)} to ${zonedStamp(Date.parse(i.resolvedAt), tz)})`;
  return `${i.kind} on ${i.target}, nodes: ${nodes}; ${when}${i.reopens ? `; re-opened ${count(i.reopens, 'time')}` : ''}`;
}

function announcerLines(d: Digest): string[] {
  return d.targets.flatMap((t) => t.announcerChanges.map((c) => `${t.target}: ${c.from ?? 'none'} -> ${c.to ?? 'none'} at ${zonedStamp(Date.parse(c.at), d.timezone)}`));
}

function footer(d: Digest): string {
  return `Digest ${d.id} · sent by vipwatch on ${d.instance}`;
}

function renderText(d: Digest): string {
  const out: string[] = [`vipwatch digest for ${d.date}`, ''];
  const width = Math.max(...facts(d).map(([k]) => k.length)) + 2;
  for (const [k, v] of facts(d)) out.push(`${(k + ':').padEnd(width)}${v}`);
  if (d.targets.length) {
    const table = [TARGET_HEAD, ...d.targets.map(targetRow)];
    const widths = TARGET_HEAD.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
    out.push('', 'Targets', ...table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()));
  }
  if (d.incidents.length) out.push('', 'Incidents', ...d.incidents.flatMap((i) => [`- ${incidentLine(i, d.timezone)}`, `  ${i.summary}`]));
  const changes = announcerLines(d);
  if (changes.length) out.push('', 'Announcer changes', ...changes.map((l) => `- ${l}`));
  out.push('', '-- ', footer(d));
  return out.join('\n') + '\n';
}

function renderHtml(d: Digest): string {
  const cell = 'style="padding:2px 10px 2px 0;text-align:left;vertical-align:top"';
  const color = d.totals.openIncidents ? '#cf222e' : d.totals.incidents || d.totals.failures ? '#9a6700' : '#1a7f37';
  const parts: string[] = [
    '<!doctype html><html><body style="font-family:sans-serif;font-size:14px">',
    `<h2 style="color:${color};margin:0 0 8px">vipwatch digest for ${esc(d.date)}</h2>`,
    '<table>', ...facts(d).map(([k, v]) => `<tr><th ${cell}>${esc(k)}</th><td ${cell}>${esc(v)}</td></tr>`), '</table>',
  ];
  if (d.targets.length) {
    parts.push('<h3>Targets</h3><table style="border-collapse:collapse">',
      `<tr>${TARGET_HEAD.map((h) => `<th ${cell}>${esc(h)}</th>`).join('')}</tr>`,
      ...d.targets.map((t) => `<tr${t.incidents ? ' style="color:#cf222e;font-weight:bold"' : ''}>${targetRow(t).map((c) => `<td ${cell}>${esc(c)}</td>`).join('')}</tr>`),
      '</table>');
  }
  if (d.incidents.length) parts.push('<h3>Incidents</h3><ul>', ...d.incidents.map((i) => `<li>${esc(incidentLine(i, d.timezone))}<br><span style="color:#57606a">${esc(i.summary)}</span></li>`), '</ul>');
  const changes = announcerLines(d);
  if (changes.length) parts.push('<h3>Announcer changes</h3><ul>', ...changes.map((l) => `<li>${esc(l)}</li>`), '</ul>');
  parts.push(`<p style="color:#57606a;font-size:12px">${esc(footer(d))}</p>`, '</body></html>');
  return parts.join('\n');
}
