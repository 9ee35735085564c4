/** /api/v1/targets: the JSON shape of a target (config, windows, cluster view, diagnosis, per-node counts, attempts). */
import type { TargetClusterView } from '../cluster/types.js';
import type { TargetConfig } from '../config/targets.js';
import type { Diagnosis } from '../diagnosis/types.js';
import { attemptJson } from '../history/attempt-json.js';
import type { TargetHistory } from '../history/history.js';
import { ERR } from '../lib/error-codes.js';
import { targetStatus } from '../schedule/target-status.js';
import { json, type Reply } from './http-server.js';

/** What the targets API reads, at request time. */
export interface TargetsApiSource {
  targets(): TargetConfig[];
  history(name: string): TargetHistory | undefined;
  skipped(name: string): number;
  viewFor(t: TargetConfig): TargetClusterView | undefined;
  diagnosis(name: string): Diagnosis | undefined;
  now(): number;
}

/** Newest attempts shown per target. */
const ATTEMPTS_SHOWN = 50;
/** Most targets per page: the default page size when only `offset` is given. */
const MAX_PAGE = 10_000;

/** One target as /api/v1/targets shows it. */
export function targetJson(src: TargetsApiSource, t: TargetConfig, now: number) {
  const h = src.history(t.name);
  const view = src.viewFor(t);
  return {
    name: t.name,
    address: t.address,
    port: t.port,
    protocol: t.protocol,
    service: t.service ?? null,
    origin: t.origin,
    interval: t.intervalMs ?? null,
    schedule: t.schedule ?? null,
    timeout: t.timeoutMs,
    status: targetStatus(h, now),
    skipped: src.skipped(t.name),
    windows: h?.allStats(now) ?? null,
    cluster: view ?? null,
    diagnosis: diagnosisJson(src.diagnosis(t.name)),
    // Successes by the node that served them, failures by the node they were attributed to, over the attempts held.
    nodes: h ? h.nodeCounts(view?.endpointsPerNode) : {},
    attempts: (h?.recent(ATTEMPTS_SHOWN) ?? []).map((a) => attemptJson(a, h!.attributionOf(a.seq))),
  };
}

/**
 * /api/v1/targets, streamed one target at a time (a 2,000-target answer is tens of MB of JSON: built in one piece it
 * would hold the event loop far longer than the stall threshold). `?offset=N&limit=M` pages through the targets
 * (in config order, then discovered ones) and adds `total`, `offset` and `limit`; without them the shape is
 * `{"targets": [...]}`, every target.
 */
export function targetsReply(src: TargetsApiSource, url: URL): Reply {
  const page = pageOf(url);
  if ('error' in page) return json({ error: page.error, code: ERR.BAD_QUERY }, 400);
  const all = src.targets();
  const now = src.now();
  const targets = page.paged ? all.slice(page.offset, page.offset + page.limit) : all;
  const head = page.paged ? `{"total":${all.length},"offset":${page.offset},"limit":${page.limit},"targets":[` : '{"targets":[';
  function* body(): Generator<string> {
    yield head;
    for (let i = 0; i < targets.length; i++) yield (i ? ',\n' : '\n') + JSON.stringify(targetJson(src, targets[i]!, now));
    yield '\n]}\n';
  }
  return { status: 200, contentType: 'application/json; charset=utf-8', body: body() };
}

function pageOf(url: URL): { paged: boolean; offset: number; limit: number } | { error: string } {
  const q = url.searchParams;
  if (!q.has('offset') && !q.has('limit')) return { paged: false, offset: 0, limit: Infinity };
  const offset = q.has('offset') ? Number(q.get('offset')) : 0;
  const limit = q.has('limit') ? Number(q.get('limit')) : MAX_PAGE;
  if (!Number.isSafeInteger(offset) || offset < 0) return { error: `offset must be an integer >= 0, got ${JSON.stringify(q.get('offset'))}` };
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) return { error: `limit must be an integer from 1 to ${MAX_PAGE}, got ${JSON.stringify(q.get('limit'))}` };
  return { paged: true, offset, limit };
}

function diagnosisJson(d: Diagnosis | undefined) {
  if (!d) return null;
  return {
    verdict: d.verdict, confidence: d.confidence, suspectedNodes: d.suspectedNodes, candidateNodes: d.candidateNodes,
    identity: d.identity, attempts: d.attempts, failures: d.failures, failureRatio: d.failureRatio,
    expectedFailureRatio: d.expectedFailureRatio, pValue: d.pValue, summary: d.summary, at: new Date(d.at).toISOString(),
  };
}
