/** Browser script: escaping, percentages, the viewer's local time, "3 min ago", durations, bracketed IPv6 endpoints. */
import { escapeHtmlScript } from '../../lib/html.js';

export const FORMAT_JS = escapeHtmlScript('esc') + String.raw`
const pct = (r) => (r === null || r === undefined ? '–' : (r * 100).toFixed(r > 0 && r < 0.1 ? 1 : 0) + '%');
/** Server clock minus the browser's (from the summary's "now"): "ago" is measured on the server's clock. */
let skew = 0;
const serverNow = () => Date.now() + skew;
const toMs = (t) => (typeof t === 'number' ? t : Date.parse(t));
function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min' + (s % 60 ? ' ' + (s % 60) + ' s' : '');
  const h = Math.floor(m / 60);
  if (h < 48) return h + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
  return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
}
function ago(t) {
  const ms = serverNow() - toMs(t);
  return ms < 5000 ? 'just now' : duration(ms).replace(/ \d+ s$/, '') + ' ago';
}
/** Local time of day (with the date when not today). */
function localTime(t) {
  const d = new Date(toMs(t));
  const today = new Date(serverNow()).toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}
/** A time shown both ways: "10:42:07 (3 min ago)", the full local date and ISO in the tooltip. */
function when(t) {
  const ms = toMs(t);
  if (!Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  return '<time datetime="' + esc(d.toISOString()) + '" title="' + esc(d.toLocaleString() + ' (' + d.toISOString() + ')') + '">' + esc(localTime(ms)) + '</time> <span class="muted ago">(' + esc(ago(ms)) + ')</span>';
}
/** host:port with IPv6 addresses in brackets. */
const hostPort = (address, port) => (String(address).includes(':') ? '[' + address + ']' : address) + ':' + port;
const endpoint = (t) => t.protocol + '://' + hostPort(t.address, t.port);
/** A stable colour per node name, for the announcer lane. */
function nodeColour(node) {
  if (node === null || node === undefined) return '#cbd5e1';
  let h = 0;
  for (const c of String(node)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return ['#3b6fd6', '#8b5cf6', '#0891b2', '#c026d3', '#4f46e5', '#0d9488'][h % 6];
}
`;
