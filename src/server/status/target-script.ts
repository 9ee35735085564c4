/**
 * Browser script: a target's card. The line that is always shown (state, failure ratios, last failure, announcer) comes
 * from the summary; opened, the card tells the story from /api/v1/series: the failure chart with incidents and
 * announcer changes on one time axis, the announcer lane, successes and failures per node, the failure reasons.
 */
export const TARGET_JS = String.raw`
const RANGES = { '1h': 'last hour', '24h': 'last 24 h' };
function nodeBars(nodes, announcer, suspects) {
  const rows = Object.entries(nodes || {});
  if (!rows.length) return '<div class="muted">No per-node counts: no cluster view, or responses do not name their backend.</div>';
  const max = Math.max(1, ...rows.map(([, s]) => (s.successes || 0) + (s.failures || 0)));
  return rows.map(([n, s]) => {
    const ok = s.successes || 0;
    const bad = s.failures || 0;
    const tags = (n === announcer ? '<span class="tag">announcer</span>' : '') + (suspects.has(n) ? '<span class="tag suspect">suspected</span>' : '');
    return '<div class="nodebar" data-node="' + esc(n) + '"><div class="label"><span><b>' + esc(n) + '</b>' + tags + '</span><span class="muted">' + ok + ' ok · ' + bad + ' failed · ' +
      esc(s.endpoints || 0) + ' endpoint' + (s.endpoints === 1 ? '' : 's') + '</span></div><div class="bar" title="' + esc(n + ': ' + ok + ' served, ' + bad + ' failed') + '">' +
      '<span class="ok" style="width:' + ((ok / max) * 100).toFixed(2) + '%"></span><span class="bad" style="width:' + ((bad / max) * 100).toFixed(2) + '%"></span></div></div>';
  }).join('');
}
function reasonsList(reasons) {
  const rows = Object.entries(reasons || {}).sort((a, b) => b[1].count - a[1].count);
  if (!rows.length) return '<div class="muted">No failure in the last hour.</div>';
  return '<ul class="reasons">' + rows.map(([r, v]) => '<li><code class="reason">' + esc(r) + '</code> ×' + esc(v.count) + ', last ' + when(v.last) + '</li>').join('') + '</ul>';
}
function story(t, st, incidents) {
  const s = st.series;
  const r = s.ranges[st.range] || s.ranges['1h'];
  const mine = incidents.filter((i) => i.target === t.name);
  const spans = mine.map((i) => ({ from: toMs(i.startedAt), to: i.resolvedAt ? toMs(i.resolvedAt) : s.now, open: !i.resolvedAt }));
  const suspects = new Set(mine.filter((i) => i.status === 'open').flatMap((i) => i.suspectedNodes || []));
  const buttons = Object.keys(RANGES).map((k) => '<button type="button" data-range="' + k + '" class="' + (k === st.range ? 'on' : '') + '">' + k + '</button>').join('');
  const chart = '<h4>Failure ratio, ' + esc(RANGES[st.range]) + ' <span class="ranges">' + buttons + '</span></h4>' +
    failureChart(r, spans, s.announcers) + announcerLane(r, s.announcers, s.now) + axis(r) +
    '<div class="legend"><i style="background:#d64545"></i>failed share <i style="background:#1f9d55"></i>attempts seen <i style="background:rgba(214,69,69,.35)"></i>incident <i style="background:#3b6fd6"></i>announcer change (lane: node announcing)</div>' +
    '<h4>Announcing node</h4>' + announcerLegend(s.announcers);
  const side = '<h4>Per node (attempts held)</h4>' + nodeBars(s.nodes, t.announcer, suspects) + '<h4>Failure reasons (attempts held, last hour)</h4>' + reasonsList(s.reasons);
  return '<div class="story"><div class="chart-col">' + chart + '</div><div class="side-col">' + side + '</div></div>';
}
function targetCard(t, st, incidents) {
  const r = t.ratio || {};
  const last = t.lastFailure ? '<code class="reason">' + esc(t.lastFailure.reason) + '</code> ' + when(t.lastFailure.at) : '<span class="muted">none</span>';
  const head = '<summary><div class="row"><span class="name">' + esc(t.name) + '</span><span class="badge ' + esc(t.status) + '">' + esc(t.status) + '</span>' +
    '<span class="muted endpoint">' + esc(endpoint(t)) + (t.service ? ' · ' + esc(t.service) : '') + '</span>' + (t.incidents.length ? '<span class="error">incident open</span>' : '') + '</div>' +
    '<div class="row"><span>failed 1m <b>' + pct(r['1m']) + '</b> · 5m ' + pct(r['5m']) + ' · 15m ' + pct(r['15m']) + '</span><span>last failure: ' + last + '</span>' +
    '<span>announcer: <b class="announcer">' + esc(t.announcer ?? '–') + '</b></span></div></summary>';
  const body = st.open ? (st.series ? story(t, st, incidents) : '<div class="muted">Loading the history…</div>') : '';
  return '<details class="card target" data-target="' + esc(t.name) + '"' + (st.open ? ' open' : '') + '>' + head + body + '</details>';
}
`;
