/**
 * Browser script: incident cards. An open incident shows its summary, when it started, the node table, the kernel's
 * own evidence when node agents gave it (agent state, strict interfaces with their rp_filter values, reverse-path drops
 * since the open), the evidence lines and the remediation. A resolved one shows how long it lasted and how the
 * recovery was verified.
 */
export const INCIDENT_JS = String.raw`
function incidentTitle(i) {
  const nodes = i.suspectedNodes && i.suspectedNodes.length ? ' — <span class="suspects">' + i.suspectedNodes.map((n) => '<b>' + esc(n) + '</b>').join(', ') + '</span>' : '';
  return '<h3><span class="badge ' + esc(i.status === 'open' ? i.severity : 'resolved') + '">' + esc(i.status === 'open' ? i.severity : 'resolved') + '</span> ' +
    esc(i.kind) + ' on <b>' + esc(i.target) + '</b> <span class="muted">' + esc(hostPort(i.address, i.port)) + '</span>' + nodes + '</h3>';
}
function nodeTable(i) {
  const rows = Object.entries(i.nodes || {});
  if (!rows.length) return '';
  const suspects = new Set(i.suspectedNodes || []);
  return '<h4>Nodes</h4><table class="nodes"><thead><tr><th>node</th><th class="num">endpoints</th><th class="num">served</th><th class="num">failed</th></tr></thead><tbody>' +
    rows.map(([n, s]) => '<tr' + (suspects.has(n) ? ' class="error"' : '') + '><td>' + esc(n) + (n === i.announcerNode ? '<span class="tag">announcer</span>' : '') + (suspects.has(n) ? '<span class="tag suspect">suspected</span>' : '') +
      '</td><td class="num">' + esc(s.endpoints ?? 0) + '</td><td class="num">' + esc(s.successes ?? 0) + '</td><td class="num">' + esc(s.failures ?? '–') + '</td></tr>').join('') + '</tbody></table>';
}
function rpFilterText(r) {
  const names = ['off', 'strict', 'loose'];
  return esc(names[r.effective] ?? r.effective) + ' <span class="muted">(all ' + esc(r.all) + ', interface ' + esc(r.interface) + ', effective ' + esc(r.effective) + ')</span>';
}
function kernelTable(kernel) {
  const rows = Object.entries(kernel || {});
  if (!rows.length) return '';
  return '<h4>Kernel evidence (node agents)</h4><table class="kernel"><thead><tr><th>node</th><th>agent</th><th>strict rp_filter</th><th class="num">reverse-path drops since open</th></tr></thead><tbody>' +
    rows.map(([n, k]) => {
      const strict = (k.strictInterfaces || []).map((ifc) => '<div><code>' + esc(ifc) + '</code> ' + (k.interfaces && k.interfaces[ifc] ? rpFilterText(k.interfaces[ifc].rpFilter) : '') + '</div>').join('') || '<span class="muted">none</span>';
      const agent = k.agent === 'ok' ? 'ok' + (k.readAt ? ' <span class="muted">read ' + when(k.readAt) + '</span>' : '') : '<span class="error">unreachable</span>' + (k.error ? '<div class="muted">' + esc(k.error) + '</div>' : '');
      const drops = (k.reversePathDropsSinceOpen === null || k.reversePathDropsSinceOpen === undefined ? '–' : esc(k.reversePathDropsSinceOpen)) +
        (k.lastRiseAt ? '<div class="muted last-rise">last rise ' + when(k.lastRiseAt) + '</div>' : '');
      return '<tr data-node="' + esc(n) + '"><td>' + esc(n) + '</td><td>' + agent + '</td><td>' + strict + '</td><td class="num">' + drops + '</td></tr>';
    }).join('') + '</tbody></table>';
}
/** Escaped text with its backquoted parts (commands, sysctl names) as code. */
const prose = (s) => esc(s).replace(/\x60([^\x60]+)\x60/g, '<code>$1</code>');
function listOf(title, items, cls) {
  if (!items || !items.length) return '';
  return '<h4>' + esc(title) + '</h4><ul class="' + cls + '">' + items.map((e) => '<li>' + prose(e) + '</li>').join('') + '</ul>';
}
function openIncidentCard(i) {
  return '<div class="card incident ' + esc(i.severity) + '" data-incident="' + esc(i.id) + '">' + incidentTitle(i) +
    '<div class="summary">' + esc(i.summary) + '</div>' +
    '<div class="row muted"><span>since ' + when(i.startedAt) + '</span><span>failure ratio ' + pct(i.failureRatio) + ' (' + esc(i.failures) + ' of ' + esc(i.attempts) + ')</span><span>confidence ' + pct(i.confidence) + '</span>' +
    (i.announcerNode ? '<span>announcer ' + esc(i.announcerNode) + '</span>' : '') + (i.reopens ? '<span>re-opened ' + esc(i.reopens) + '×, last ' + when(i.reopenedAt) + '</span>' : '') + '</div>' +
    nodeTable(i) + kernelTable(i.kernel) + listOf('Evidence', i.evidence, 'evidence') + listOf('Remediation', i.remediation, 'remediation') + '</div>';
}
function verificationText(v) {
  if (!v) return '';
  const by = { backend_identity: 'every node served again (backend identity)', failure_ratio: 'failure ratio back to normal', none: 'not verified' }[v.verifiedBy] || '';
  return '<div class="verification">Verified: ' + esc(by) + ' · ' + esc(v.attemptsSince) + ' attempts since' + (v.since ? ' ' + when(v.since) : '') +
    (v.nodesServing && v.nodesServing.length ? ' · serving: ' + v.nodesServing.map(esc).join(', ') : '') +
    (v.nodesNotServing && v.nodesNotServing.length ? ' · <span class="error">not serving: ' + v.nodesNotServing.map(esc).join(', ') + '</span>' : '') +
    (typeof v.pValue === 'number' ? ' · p=' + esc(v.pValue.toPrecision(2)) : '') + '</div>';
}
function resolvedIncidentCard(i) {
  const lasted = i.resolvedAt ? duration(toMs(i.resolvedAt) - toMs(i.startedAt)) : '–';
  return '<div class="card incident resolved" data-incident="' + esc(i.id) + '">' + incidentTitle(i) +
    '<div class="summary">' + esc(i.summary) + '</div>' +
    '<div class="row"><span>from ' + when(i.startedAt) + '</span><span>to ' + when(i.resolvedAt) + '</span><span class="duration">lasted <b>' + esc(lasted) + '</b></span>' +
    (i.resolvedReason === 'target_removed' ? '<span class="muted">target removed</span>' : '') + (i.reopens ? '<span>re-opened ' + esc(i.reopens) + '×</span>' : '') + '</div>' +
    verificationText(i.verification) + '<details><summary class="muted">Details</summary>' + nodeTable(i) + kernelTable(i.kernel) + listOf('Evidence', i.evidence, 'evidence') + listOf('Remediation', i.remediation, 'remediation') + '</details></div>';
}
`;
