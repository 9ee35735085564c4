/** The status page's stylesheet: one column of cards that fits a 390 px phone without sideways scrolling. */
export const STATUS_CSS = String.raw`
:root { --ok: #1f9d55; --bad: #d64545; --warn: #c77c0e; --muted: #6b7280; --bg: #f4f6f8; --card: #fff; --line: #e5e7eb; --ann: #3b6fd6; }
* { box-sizing: border-box; }
html, body { overflow-x: hidden; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: var(--bg); color: #111827; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 14px; padding: 12px 20px; background: #111827; color: #f9fafb; }
header h1 { font-size: 18px; margin: 0; }
header .meta { color: #9ca3af; font-size: 12px; }
header .meta.error { color: #fca5a5; }
main { padding: 12px 20px 40px; max-width: 1200px; margin: 0 auto; }
h2 { font-size: 15px; margin: 18px 0 8px; }
h3 { font-size: 15px; margin: 0 0 4px; overflow-wrap: anywhere; }
h4 { font-size: 12px; margin: 10px 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 10px; min-width: 0; }
.muted { color: var(--muted); }
.error { color: var(--bad); }
.banner { border-radius: 8px; padding: 12px 14px; margin: 12px 0; background: #fff7ed; border: 1px solid #fdba74; }
.banner.auth { background: #fef2f2; border-color: #fca5a5; }
.banner h2 { margin: 0 0 4px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; white-space: nowrap; }
.badge.healthy, .badge.resolved { background: var(--ok); } .badge.degraded, .badge.warning { background: var(--warn); } .badge.down, .badge.critical { background: var(--bad); } .badge.unknown { background: var(--muted); }
.row { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: baseline; }
.row > * { min-width: 0; overflow-wrap: anywhere; }
code, pre { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f3f4f6; border-radius: 4px; }
code { padding: 1px 4px; overflow-wrap: anywhere; }
pre { padding: 6px 8px; margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.target > summary { cursor: pointer; list-style: none; }
.target > summary::-webkit-details-marker { display: none; }
.target > summary .name::before { content: "▸ "; color: var(--muted); }
.target[open] > summary .name::before { content: "▾ "; }
.target .name { font-weight: 600; font-size: 15px; }
.story { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 8px 20px; margin-top: 8px; }
@media (max-width: 760px) { .story { grid-template-columns: minmax(0, 1fr); } main { padding: 8px 10px 30px; } header { padding: 10px 12px; } }
.ranges { display: inline-flex; gap: 4px; margin-left: 6px; }
.ranges button { font: inherit; font-size: 12px; padding: 1px 8px; border: 1px solid var(--line); border-radius: 10px; background: #fff; cursor: pointer; }
.ranges button.on { background: #111827; color: #fff; border-color: #111827; }
svg.chart { display: block; width: 100%; height: 110px; background: #fbfcfd; border: 1px solid var(--line); border-radius: 4px; }
svg.lane { display: block; width: 100%; height: 16px; margin-top: 3px; border-radius: 3px; }
.axis { display: flex; justify-content: space-between; font-size: 11px; color: var(--muted); gap: 6px; }
.legend { font-size: 12px; margin-top: 3px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; vertical-align: -1px; margin-right: 3px; }
.nodebar { margin: 4px 0 8px; }
.nodebar .bar { display: flex; height: 12px; background: #f3f4f6; border-radius: 3px; overflow: hidden; }
.nodebar .ok { background: var(--ok); } .nodebar .bad { background: var(--bad); }
.nodebar .label { display: flex; justify-content: space-between; gap: 6px; font-size: 12px; flex-wrap: wrap; }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; background: #e0e7ff; color: #1e3a8a; margin-left: 4px; }
.tag.suspect { background: #fee2e2; color: #991b1b; }
.incident { border-left: 5px solid var(--bad); }
.incident.warning { border-left-color: var(--warn); }
.incident.resolved { border-left-color: var(--ok); background: var(--card); }
.incident ul, .incident ol { margin: 4px 0; padding-left: 20px; }
.incident li { overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { font-size: 11px; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
table.kernel td:first-child, table.nodes td:first-child { min-width: 4.5em; }
.reasons { margin: 0; padding-left: 18px; }
`;
