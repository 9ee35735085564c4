/**
 * Browser script: the failure-ratio chart and the announcer lane as inline SVG, on one time axis. Bars are the failure
 * ratio per bucket (red, 0-100 %), a green foot marks buckets that saw attempts, shaded spans are the target's incidents,
 * dashed lines the announcer's changes; the lane below colours each announcing node's time.
 */
export const CHART_JS = String.raw`
const CW = 600;
const CH = 100;
/** range: {bucketMs, from, attempts[], failures[], timeouts[]}; spans: [{from, to}]; changes: [{at, node}]. */
function failureChart(range, spans, changes) {
  const n = range.attempts.length;
  const start = range.from;
  const end = start + n * range.bucketMs;
  const x = (t) => Math.max(0, Math.min(CW, ((t - start) / (end - start)) * CW));
  const bw = CW / n;
  let s = '<svg class="chart" viewBox="0 0 ' + CW + ' ' + CH + '" preserveAspectRatio="none" role="img" aria-label="failure ratio over time">';
  for (const y of [25, 50, 75]) s += '<line x1="0" x2="' + CW + '" y1="' + y + '" y2="' + y + '" stroke="#e5e7eb" vector-effect="non-scaling-stroke"/>';
  for (const sp of spans) {
    if (sp.to < start || sp.from > end) continue;
    s += '<rect class="span" x="' + x(sp.from).toFixed(2) + '" y="0" width="' + Math.max(1, x(sp.to) - x(sp.from)).toFixed(2) + '" height="' + CH + '" fill="rgba(214,69,69,.13)"><title>incident ' + esc(localTime(sp.from)) + ' – ' + esc(sp.open ? 'now' : localTime(sp.to)) + '</title></rect>';
  }
  for (let i = 0; i < n; i++) {
    const a = range.attempts[i];
    if (!a) continue;
    const f = range.failures[i];
    const t0 = start + i * range.bucketMs;
    const tip = '<title>' + esc(localTime(t0)) + ': ' + a + ' attempts, ' + f + ' failed' + (range.timeouts[i] ? ' (' + range.timeouts[i] + ' connect timeouts)' : '') + '</title>';
    s += '<rect class="seen" x="' + (i * bw).toFixed(2) + '" y="' + (CH - 3) + '" width="' + Math.max(0.5, bw - 0.6).toFixed(2) + '" height="3" fill="' + (f ? '#f59e0b' : '#1f9d55') + '">' + tip + '</rect>';
    if (f) {
      const h = Math.max(2, (f / a) * (CH - 4));
      s += '<rect class="fail" x="' + (i * bw).toFixed(2) + '" y="' + (CH - 3 - h).toFixed(2) + '" width="' + Math.max(0.5, bw - 0.6).toFixed(2) + '" height="' + h.toFixed(2) + '" fill="#d64545">' + tip + '</rect>';
    }
  }
  // A change from "none known" (the cluster view arriving) is not a failover: no line for it.
  for (let i = 1; i < changes.length; i++) {
    const c = changes[i];
    if (c.at < start || changes[i - 1].node === null) continue;
    s += '<line class="change" x1="' + x(c.at).toFixed(2) + '" x2="' + x(c.at).toFixed(2) + '" y1="0" y2="' + CH + '" stroke="#3b6fd6" stroke-dasharray="4 3" vector-effect="non-scaling-stroke"/>';
  }
  return s + '</svg>';
}
/** The announcing node over the same axis: one coloured segment per node in force. */
function announcerLane(range, changes, now) {
  const n = range.attempts.length;
  const start = range.from;
  const end = start + n * range.bucketMs;
  const x = (t) => Math.max(0, Math.min(CW, ((t - start) / (end - start)) * CW));
  let s = '<svg class="lane" viewBox="0 0 ' + CW + ' 10" preserveAspectRatio="none" role="img" aria-label="announcing node over time"><rect x="0" y="0" width="' + CW + '" height="10" fill="#f1f5f9"/>';
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i];
    const to = i + 1 < changes.length ? changes[i + 1].at : Math.min(now, end);
    if (to < start) continue;
    s += '<rect class="ann" data-node="' + esc(c.node ?? '') + '" x="' + x(c.at).toFixed(2) + '" y="0" width="' + Math.max(0.5, x(to) - x(c.at)).toFixed(2) + '" height="10" fill="' + nodeColour(c.node) + '"><title>' + esc((c.node ?? 'no announcer known') + ' from ' + localTime(c.at)) + '</title></rect>';
  }
  return s + '</svg>';
}
/** Start, middle and end of the axis in the viewer's local time. */
function axis(range) {
  const n = range.attempts.length;
  const end = range.from + n * range.bucketMs;
  const fmt = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return '<div class="axis"><span>' + esc(fmt(range.from)) + '</span><span>' + esc(fmt((range.from + end) / 2)) + '</span><span>now ' + esc(fmt(end)) + '</span></div>';
}
/** The announcer's changes as text: "node-1 since 10:41 → node-3 since 10:42 (2 min ago)". */
function announcerLegend(changes) {
  if (!changes.some((c) => c.node !== null)) return '<div class="legend muted">No announcer known (no cluster view).</div>';
  const first = changes.findIndex((c) => c.node !== null);
  return '<div class="legend announcers">' + changes.slice(first).map((c) => '<span class="change-item"><i style="background:' + nodeColour(c.node) + '"></i><b>' + esc(c.node ?? 'none known') + '</b> since ' + when(c.at) + '</span>').join(' → ') + '</div>';
}
`;
