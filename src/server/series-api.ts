/**
 * /api/v1/series?target=NAME: one target's story for the status page's charts: the failure series of the last hour
 * (one-minute buckets) and day (ten-minute buckets), the announcing node's changes over the day, successes and failures
 * per node over the attempts held, and the failure reasons of the last hour among them. Fetched per target, when its chart is shown.
 */
import { ERR } from '../lib/error-codes.js';
import { SERIES_RESOLUTIONS, type SeriesRange } from '../history/series.js';
import type { TargetHistory } from '../history/history.js';
import { json, type Reply } from './http-server.js';
import type { TargetsApiSource } from './targets-api.js';

const REASONS_WINDOW_MS = 3_600_000;

function range(h: TargetHistory, r: SeriesRange, now: number) {
  const points = h.series.points(r, now);
  return {
    bucketMs: SERIES_RESOLUTIONS[r].bucketMs,
    from: points[0]?.start ?? now,
    attempts: points.map((p) => p.attempts),
    failures: points.map((p) => p.failures),
    timeouts: points.map((p) => p.timeouts),
  };
}

/** Failure reasons among the held attempts of the last hour: count and newest start per reason. */
function reasons(h: TargetHistory, now: number): Record<string, { count: number; last: string }> {
  const out: Record<string, { count: number; last: number }> = {};
  for (const a of h.since(REASONS_WINDOW_MS, now)) {
    if (a.ok) continue;
    const r = (out[a.reason ?? 'unknown'] ??= { count: 0, last: 0 });
    r.count++;
    r.last = Math.max(r.last, a.startedAt);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { count: v.count, last: new Date(v.last).toISOString() }]));
}

export function seriesReply(src: TargetsApiSource, url: URL): Reply {
  const name = url.searchParams.get('target');
  if (!name) return json({ error: 'target is required: /api/v1/series?target=NAME', code: ERR.BAD_QUERY }, 400);
  const t = src.targets().find((x) => x.name === name);
  const h = t && src.history(name);
  if (!t || !h) return json({ error: `no such target: ${JSON.stringify(name)}`, code: ERR.NOT_FOUND }, 404);
  const now = src.now();
  const view = src.viewFor(t);
  const body = {
    target: name,
    now,
    ranges: { '1h': range(h, '1h', now), '24h': range(h, '24h', now) },
    announcers: h.announcers.list(now),
    nodes: h.nodeCounts(view?.endpointsPerNode),
    reasons: reasons(h, now),
  };
  return { status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) + '\n' };
}
