/** The status page document: the skeleton, with the stylesheet and the scripts of this folder inlined (no other asset). */
import { escapeHtml } from '../../lib/html.js';
import { CHART_JS } from './chart-script.js';
import { FORMAT_JS } from './format-script.js';
import { INCIDENT_JS } from './incident-script.js';
import { STATUS_CSS } from './page-css.js';
import { POLL_JS } from './poll-script.js';
import { TARGET_JS } from './target-script.js';

export function statusDocument(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vipwatch</title>
<style>${STATUS_CSS}</style>
</head>
<body>
<header><h1>vipwatch</h1><span class="meta">v${escapeHtml(version)}</span><span class="meta" id="updated">loading…</span></header>
<main>
  <div id="banner"></div>
  <h2>Open incidents <span class="muted" id="incident-count"></span></h2>
  <div id="incidents"><p class="muted">Loading…</p></div>
  <h2>Targets</h2>
  <div id="targets"><p class="muted">Loading…</p></div>
  <h2>Recently resolved</h2>
  <div id="resolved"><p class="muted">Loading…</p></div>
</main>
<script>
${FORMAT_JS}
${CHART_JS}
${INCIDENT_JS}
${TARGET_JS}
${POLL_JS}
</script>
</body>
</html>
`;
}
