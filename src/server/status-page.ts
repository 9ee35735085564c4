/**
 * The status page: one self-contained HTML document (no external assets) that polls the JSON API.
 * Everything shown is read from /api/v1/targets and /api/v1/incidents, so the page never knows more than the API.
 */
import { escapeHtml, escapeHtmlScript } from '../lib/html.js';

export function statusPageHtml(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vipwatch</title>
<style>
  :root { --ok: #1f9d55; --bad: #d64545; --warn: #d69e2e; --muted: #6b7280; --bg: #f8fafc; --card: #fff; --line: #e5e7eb; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: var(--bg); color: #111827; }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #111827; color: #f9fafb; }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: #9ca3af; font-size: 12px; }
  main { padding: 16px 24px; max-width: 1400px; }
  h2 { font-size: 15px; margin: 20px 0 8px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 12px; }
  .incident { border-left: 5px solid var(--bad); }
  .incident.warning { border-left-color: var(--warn); }
  .incident h3 { margin: 0 0 4px; font-size: 15px; }
  .incident ul { margin: 6px 0; padding-left: 20px; }
  .muted { color: var(--muted); }
  table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
  th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-size: 12px; color: var(--muted); font-weight: 600; background: #f3f4f6; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
  .healthy { background: var(--ok); } .degraded { background: var(--warn); } .down { background: var(--bad); } .unknown { background: var(--muted); }
  .spark { display: flex; gap: 1px; flex-wrap: nowrap; }
  .spark i { width: 5px; height: 16px; background: var(--ok); display: inline-block; }
  .spark i.f { background: var(--bad); } .spark i.s { background: var(--muted); }
  code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f3f4f6; padding: 1px 4px; border-radius: 4px; }
  .error { color: var(--bad); }
</style>
</head>
<body>
<header><h1>vipwatch</h1><span class="meta">v${escapeHtml(version)}</span><span class="meta" id="updated">loading…</span></header>
<main>
  <h2>Open incidents <span class="muted" id="incident-count"></span></h2>
  <div id="incidents"><p class="muted">Loading…</p></div>
  <h2>Targets</h2>
  <table>
    <thead><tr><th>Target</th><th>Status</th><th>Failure ratio 1m / 5m / 15m</th><th>Last 50 attempts</th><th>Last failure</th><th>Nodes</th></tr></thead>
    <tbody id="targets"><tr><td colspan="6" class="muted">Loading…</td></tr></tbody>
  </table>
</main>
<script>
${escapeHtmlScript('esc')}
const pct = (r) => (r === null || r === undefined ? '–' : (r * 100).toFixed(1) + '%');
async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
  return res.json();
}
function renderIncidents(data) {
  const el = document.getElementById('incidents');
  const open = (data && data.incidents ? data.incidents : []).filter((i) => i.status === 'open');
  document.getElementById('incident-count').textContent = open.length ? '(' + open.length + ')' : '';
  if (!open.length) { el.innerHTML = '<p class="muted">No open incident.</p>'; return; }
  el.innerHTML = open.map((i) => '<div class="card incident ' + esc(i.severity) + '" data-incident="' + esc(i.id) + '">' +
    '<h3>' + esc(i.kind) + ' on <b>' + esc(i.target) + '</b> ' + esc(i.address) + ':' + esc(i.port) +
    (i.suspectedNodes && i.suspectedNodes.length ? ' — suspected: <b class="suspects">' + i.suspectedNodes.map(esc).join(', ') + '</b>' : '') + '</h3>' +
    '<div>' + esc(i.summary) + '</div>' +
    '<div class="muted">confidence ' + esc(i.confidence) + ' · failure ratio ' + pct(i.failureRatio) + ' · since ' + esc(i.startedAt) + '</div>' +
    '<details><summary>Evidence</summary><ul>' + (i.evidence || []).map((e) => '<li>' + esc(e) + '</li>').join('') + '</ul></details>' +
    '<details><summary>Remediation</summary><ul>' + (i.remediation || []).map((e) => '<li>' + esc(e) + '</li>').join('') + '</ul></details>' +
    '</div>').join('');
}
function renderTargets(data) {
  const rows = (data.targets || []).map((t) => {
    const last = [...t.attempts].reverse().find((a) => !a.ok);
    const spark = t.attempts.map((a) => '<i class="' + (a.ok ? '' : a.stalled || a.reason === 'probe_error' ? 's' : 'f') + '" title="' + esc(a.startedAt + ' ' + (a.ok ? 'ok' : a.reason) + (a.backendNode ? ' via ' + a.backendNode : '')) + '"></i>').join('');
    const nodes = t.cluster && t.nodes ? Object.entries(t.nodes).map(([n, s]) => esc(n) + ': ' + esc(s.successes ?? 0) + ' ok / ' + esc(s.failures ?? 0) + ' failed').join('<br>') : '<span class="muted">no cluster view</span>';
    const w = t.windows || {};
    return '<tr data-target="' + esc(t.name) + '"><td><b>' + esc(t.name) + '</b><br><span class="muted">' + esc(t.protocol) + '://' + esc(t.address) + ':' + esc(t.port) + (t.service ? ' · ' + esc(t.service) : '') + '</span></td>' +
      '<td><span class="badge ' + esc(t.status) + '">' + esc(t.status) + '</span></td>' +
      '<td>' + pct(w['1m'] && w['1m'].ratio) + ' / ' + pct(w['5m'] && w['5m'].ratio) + ' / ' + pct(w['15m'] && w['15m'].ratio) + '</td>' +
      '<td><div class="spark">' + spark + '</div></td>' +
      '<td>' + (last ? '<code class="reason">' + esc(last.reason) + '</code> <span class="muted">' + esc(last.startedAt) + '</span>' : '<span class="muted">none</span>') + '</td>' +
      '<td>' + nodes + '</td></tr>';
  });
  document.getElementById('targets').innerHTML = rows.join('') || '<tr><td colspan="6" class="muted">No target configured.</td></tr>';
}
async function refresh() {
  try {
    const [targets, incidents] = await Promise.all([getJson('api/v1/targets'), getJson('api/v1/incidents')]);
    renderTargets(targets || { targets: [] });
    renderIncidents(incidents);
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    document.getElementById('updated').className = 'meta';
  } catch (err) {
    document.getElementById('updated').textContent = 'update failed: ' + err.message;
    document.getElementById('updated').className = 'meta error';
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
}
