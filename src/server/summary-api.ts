/**
 * /api/v1/summary: what the status page polls every 2 s. Per target only its state, failure ratios, last failure,
 * announcer and open incident ids (a few hundred bytes), and a fingerprint of the incident list so the page fetches
 * /api/v1/incidents only when something in it changed. Streamed one target at a time, like /api/v1/targets.
 */
import type { TargetConfig } from '../config/targets.js';
import type { Incident } from '../incidents/types.js';
import { targetStatus } from '../schedule/target-status.js';
import type { Reply } from './http-server.js';
import type { TargetsApiSource } from './targets-api.js';

/** Newest attempts looked through for the last failure (the same number /api/v1/targets shows). */
const LAST_FAILURE_SCAN = 50;

/** One target as /api/v1/summary shows it. */
export function targetSummary(src: TargetsApiSource, t: TargetConfig, now: number, open: readonly Incident[]) {
  const h = src.history(t.name);
  const view = src.viewFor(t);
  const w = h?.allStats(now);
  let lastFailure: { reason: string; at: string } | null = null;
  const recent = h?.recent(LAST_FAILURE_SCAN) ?? [];
  for (let i = recent.length - 1; i >= 0; i--) {
    const a = recent[i]!;
    if (a.ok) continue;
    lastFailure = { reason: a.reason ?? 'unknown', at: new Date(a.startedAt).toISOString() };
    break;
  }
  return {
    name: t.name,
    address: t.address,
    port: t.port,
    protocol: t.protocol,
    service: t.service ?? null,
    status: targetStatus(h, now),
    ratio: { '1m': w?.['1m'].ratio ?? null, '5m': w?.['5m'].ratio ?? null, '15m': w?.['15m'].ratio ?? null },
    lastFailure,
    announcer: view?.announcer?.node ?? h?.announcers.current() ?? null,
    incidents: open.filter((i) => i.target === t.name).map((i) => i.id),
  };
}

/** A short fingerprint of the incident list: it changes whenever an incident opens, changes or resolves. */
export function incidentsVersion(incidents: readonly Incident[]): string {
  let h = 0x811c9dc5;
  for (const i of incidents) {
    const s = `${i.id}|${i.status}|${i.updatedAt}|${i.reopens ?? 0};`;
    for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193) >>> 0;
  }
  return `${incidents.length}-${h.toString(16)}`;
}

/** `{"now", "incidents": {open, resolved, version}, "targets": [...]}`, compact JSON, streamed per target. */
export function summaryReply(src: TargetsApiSource, incidents: () => Incident[]): Reply {
  const now = src.now();
  const all = incidents();
  const open = all.filter((i) => i.status === 'open');
  const targets = src.targets();
  const head = {
    now: new Date(now).toISOString(),
    incidents: { open: open.length, resolved: all.length - open.length, version: incidentsVersion(all) },
  };
  function* body(): Generator<string> {
    yield JSON.stringify(head).slice(0, -1) + ',"targets":[';
    for (let i = 0; i < targets.length; i++) yield (i ? ',\n' : '\n') + JSON.stringify(targetSummary(src, targets[i]!, now, open));
    yield '\n]}\n';
  }
  return { status: 200, contentType: 'application/json; charset=utf-8', body: body() };
}
