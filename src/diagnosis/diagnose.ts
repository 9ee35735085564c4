/**
 * The diagnosis engine: a pure function from an attempt stream, the cluster view and the time to a verdict.
 * Rules, strongest first: the target went down (every recent attempt fails) -> recovered -> by the dominant failure
 * class: refusals -> backend_refused; failed checks -> http_errors; silent drops -> asymmetric_routing when the node split
 * (or, without backend identity, the path-drop signature) holds at pValue, else packet_loss when the drops look like
 * random loss, else "still gathering evidence" (insufficient_data). An outage under externalTrafficPolicy: Local whose
 * announcer has no local endpoint is etp_local_no_endpoint; failures in blocks (runs test) are intermittent_blocks.
 * Failures that depend on which of several MACs the VIP's neighbour entry held (announcement_conflict) come first.
 */
import type { Attempt } from '../history/attempt.js';
import { announcementConflict } from './announcement.js';
import { attributeFailure } from './attribution.js';
import { intermittentBlocks } from './blocks.js';
import type { Ctx, Finding } from './context.js';
import { etpLocalFinding } from './etp-local.js';
import { asymmetric, httpFinding, lossFinding, refusedFinding } from './findings.js';
import { pct, prob, reasonsText, topReason } from './format.js';
import { onsetInsteadOfHealthy } from './onset.js';
import { remediation } from './remediation.js';
import { reachable, selectSample, totalEndpoints } from './sample.js';
import { binomUpperTail } from './stats.js';
import { downStreak, recoveryStreak } from './streaks.js';
import { segment, servedAgain, type ServedAgain } from './transition.js';
import { dominantClass, synTransmissions, tally } from './tally.js';
import type { ChangePoint, DiagnoseInput, Diagnosis, DiagnosisNodeStats, IdentityMode, KnownFix } from './types.js';

export { NO_IDENTITY_MAX_CONFIDENCE } from './findings.js';

export function diagnose(input: DiagnoseInput): Diagnosis {
  const { target, config: cfg, now } = input;
  const sample = selectSample(input.attempts, input.view, now, cfg.windowMs);
  const placement = reachable(sample.placement);
  const used = sample.used;
  const ctx: Ctx = {
    input, cfg, sample, placement, used,
    placementKnown: !!placement && !placement.stale && totalEndpoints(placement) > 0,
    t: tally(used),
    identity: identityMode(used),
    tx: synTransmissions(target.timeoutMs),
    name: target.name,
  };
  // After a fix, only the attempts since it are judged (and counted): the ones before describe the past.
  const { judged, cuts } = sinceLastFix(ctx, input.knownFix);
  const finding = cuts.length ? judgeSinceFix(judged, cuts[cuts.length - 1]!) : decide(judged);
  return build(judged, finding);
}

/**
 * Cuts the attempts at every point where a blamed node served again, oldest first; the last part is what is judged.
 * A fix an earlier diagnosis found is cut first, as long as its attempt is still in the window.
 */
function sinceLastFix(c: Ctx, known: KnownFix | undefined): { judged: Ctx; cuts: ServedAgain[] } {
  const cuts: ServedAgain[] = [];
  let judged = c;
  const at = known ? c.used.findIndex((a) => a.startedAt === known.at && a.ok && a.backendNode === known.node) : -1;
  if (at >= 0) {
    const again: ServedAgain = { at, node: known!.node, before: knownBefore(c, known!) };
    cuts.push(again);
    judged = segment(judged, afterFix(judged.used, at));
  }
  for (let again = servedAgain(judged); again; again = servedAgain(judged)) {
    cuts.push(again);
    judged = segment(judged, afterFix(judged.used, again.at));
  }
  return { judged, cuts };
}

/** What the attempts before a known fix showed when it was found (they may have left the window since). */
function knownBefore(c: Ctx, known: KnownFix): Finding {
  const blamed = known.blamed.length ? known.blamed : [known.node];
  return {
    verdict: 'asymmetric_routing', confidence: 1 - c.cfg.pValue, suspectedNodes: blamed, candidateNodes: blamed,
    summary: `${c.name}: connections through ${blamed.join(', ')} silently dropped (found when the fix was seen; those attempts may have left the window since)`,
    evidence: [],
  };
}

/**
 * The attempts from the cut on, less those caught by the fix in flight: the success through the blamed node proves the
 * drop had stopped when its connecting SYN went out, up to a SYN retransmission after it started; an attempt started
 * before its connect completed may have lost its first SYN to the fault (a slow connect, or a timeout) and says nothing
 * about after the fix.
 */
function afterFix(used: readonly Attempt[], at: number): Attempt[] {
  const cut = used[at]!;
  const settled = cut.startedAt + (cut.timings.connectMs ?? 0);
  return used.slice(at).filter((a, i) => i === 0 || a.startedAt >= settled || !(a.synRetransmit || (!a.ok && (a.reason === 'connect_timeout' || a.reason === 'unreachable'))));
}

function decide(c: Ctx): Finding {
  const { cfg, used, t } = c;
  const down = wentDown(c);
  // Failures that follow the VIP's MAC name the second announcer: ahead of the outage, block and loss rules it explains.
  const conflict = announcementConflict(c, { down: !!down });
  if (conflict) return conflict;
  if (down) return down;
  if (used.length < cfg.minAttempts) return fewUnderView(c);
  const rec = recoveryStreak(used, cfg.minAttempts, cfg.pValue, cfg.consistencyAlpha);
  // Blocks outrank a recovery no longer than the pauses between them, never a node split or path drop that holds.
  const blocks = intermittentBlocks(c, rec?.length);
  if (blocks && !asymmetric(c).finding) return blocks;
  if (rec) {
    return {
      verdict: 'healthy', confidence: 1 - rec.p, recovered: true,
      changePoint: { kind: 'recovery', at: used[used.length - rec.length]!.startedAt, attempts: rec.length, failures: 0 },
      summary: `${c.name}: recovered: the last ${rec.length} attempts succeeded`,
      evidence: [`The last ${rec.length} attempts succeeded; at the failure rate before them that would happen by chance with p=${prob(rec.p)}.`],
    };
  }
  const noiseConf = 1 - binomUpperTail(t.failures, t.attempts, cfg.minFailureRatio);
  const cls = dominantClass(t);
  if (cls === 'refused' && noiseConf >= cfg.minConfidence) return refusedFinding(c, noiseConf);
  if (cls === 'app' && noiseConf >= cfg.minConfidence) return httpFinding(c, noiseConf);
  if (cls === 'silent' || cls === 'unreachable') {
    const asym = asymmetric(c);
    if (asym.finding) return asym.finding;
    const loss = lossFinding(c);
    if (loss) return loss;
    if (noiseConf >= cfg.minConfidence) {
      return {
        verdict: 'insufficient_data', confidence: 0,
        summary: `${c.name}: ${pct(t.failures / t.attempts)} of attempts fail (${reasonsText(t.reasons)}); gathering evidence to tell a path drop from loss`,
        evidence: asym.evidence,
      };
    }
    return onsetInsteadOfHealthy(c) ?? healthy(c, noiseConf);
  }
  return lossFinding(c) ?? onsetInsteadOfHealthy(c) ?? healthy(c, noiseConf);
}

/**
 * A blamed node served again; `c` holds only the attempts since. Once they are enough for the usual rules those decide
 * (a healthy verdict then says recovered); until then the verdict is healthy (recovered) when every node the split
 * blamed has served since and nothing failed, else insufficient_data: never a kind the attempts since do not show.
 */
function judgeSinceFix(c: Ctx, again: ServedAgain): Finding {
  const f = judgeSegment(c, again);
  const changePoint: ChangePoint = {
    kind: 'served_again', at: c.used[0]!.startedAt, attempts: c.t.attempts, failures: c.t.failures, node: again.node,
    blamed: again.before.suspectedNodes ?? [again.node],
  };
  return { ...f, changePoint };
}

function judgeSegment(c: Ctx, again: ServedAgain): Finding {
  const at = new Date(c.used[0]!.startedAt).toISOString();
  const past = `${again.node} served a success at ${at} after the attempts before showed ${again.before.summary.replace(`${c.name}: `, '')}: the drop through ${again.node} stopped there; only the ${c.used.length} attempts since are judged.`;
  if (c.used.length >= c.cfg.minAttempts) {
    const f = decide(c);
    if (f.verdict !== 'healthy') return { ...f, evidence: [...f.evidence, past] };
    return { ...f, recovered: true, summary: `${c.name}: recovered: ${again.node} serves again since ${at}; ${c.t.failures} failures in the ${c.t.attempts} attempts since`, evidence: [...f.evidence, past] };
  }
  const blamed = again.before.suspectedNodes ?? [again.node];
  const served = new Set(c.used.filter((a) => a.ok && a.backendNode !== undefined).map((a) => a.backendNode!));
  if (c.t.failures === 0 && blamed.every((n) => served.has(n))) {
    return {
      verdict: 'healthy', confidence: 1 - c.cfg.pValue, recovered: true,
      summary: `${c.name}: recovered: ${blamed.join(', ')} serve${blamed.length === 1 ? 's' : ''} again since ${at}, no failure since`,
      evidence: [past, 'A success through a node behind a path drop is impossible while the drop lasts: one is decisive for that node.'],
    };
  }
  return {
    verdict: 'insufficient_data', confidence: 0,
    summary: `${c.name}: ${again.node} serves again since ${at}; judging the ${c.used.length} attempts since (${c.cfg.minAttempts} needed)`,
    evidence: [past],
  };
}

function healthy(c: Ctx, noiseConf: number): Finding {
  const { t, cfg } = c;
  return {
    verdict: 'healthy', confidence: 1 - noiseConf,
    summary: `${c.name}: healthy (${t.attempts} attempts, ${t.failures} failures)`,
    evidence: t.failures ? [`${t.failures} failures in ${t.attempts} attempts (${reasonsText(t.reasons)}): within the background ratio of ${pct(cfg.minFailureRatio)}.`] : [],
  };
}

/**
 * Too few attempts under the current cluster view for node-level rules. If the whole window (every view) shows nothing
 * beyond noise, the target is healthy whatever the placement; otherwise wait for evidence under the new view.
 */
function fewUnderView(c: Ctx): Finding {
  const { cfg, sample, used } = c;
  // Every attempt since the view changed failed, beyond the rate before: the outage began with the change (a rolling
  // update that moved the pods), so the attempts before it say nothing about it. Wait for the ones after it.
  const run = used.length && sample.otherView > 0 ? downStreak(sample.all, used.length, cfg.consistencyAlpha, cfg.consistencyAlpha) : undefined;
  if (run) {
    return {
      verdict: 'insufficient_data', confidence: 0,
      summary: `${c.name}: all ${used.length} attempts since the cluster view changed failed; gathering evidence under the new view (${cfg.minAttempts} needed)`,
      evidence: [`The cluster view (announcer or endpoint placement) changed ${used.length} attempts ago and every attempt since failed (chance at the failure rate before: p=${prob(run.p)}): judged under the new view, not over the whole window.`],
    };
  }
  if (sample.all.length >= cfg.minAttempts && sample.otherView > 0) {
    const t = tally(sample.all);
    const noiseConf = 1 - binomUpperTail(t.failures, t.attempts, cfg.minFailureRatio);
    const lossConf = 1 - binomUpperTail(t.timeouts + t.byClass.unreachable + t.slow, t.attempts, cfg.lossRatio);
    if (noiseConf < cfg.minConfidence && lossConf < cfg.minConfidence) {
      return {
        verdict: 'healthy', confidence: 1 - noiseConf,
        summary: `${c.name}: healthy (${t.attempts} attempts across a cluster view change, ${t.failures} failures)`,
        evidence: [`The cluster view changed ${used.length} attempts ago; over the whole window ${t.failures} of ${t.attempts} attempts failed: within noise.`],
      };
    }
    // Loss that looks random is not about placement: judge it over the whole window (without the per-node check).
    const loss = lossFinding({ ...c, used: sample.all, t, placementKnown: false });
    if (loss) return { ...loss, evidence: [...loss.evidence, `The cluster view changed ${used.length} attempts ago; judged over the whole window.`] };
  }
  return {
    verdict: 'insufficient_data', confidence: 0,
    summary: `${c.name}: not enough attempts yet (${used.length} of ${cfg.minAttempts} needed${sample.otherView ? ' under the current cluster view' : ''})`,
    evidence: sample.otherView ? [`The cluster view (announcer or endpoint placement) changed ${used.length} attempts ago: evidence is gathered again under the new view.`] : [],
  };
}

/** Every recent attempt fails (over all cluster views: an outage that survives a failover is still an outage). */
function wentDown(c: Ctx): Finding | undefined {
  const { cfg, sample } = c;
  const all = sample.all;
  if (all.length < cfg.minAttempts) return undefined;
  let failing: Attempt[] | undefined;
  let p = 0;
  let how = '';
  const fails = all.filter((a) => !a.ok).length;
  if (fails / all.length >= cfg.unreachableRatio) {
    failing = all.filter((a) => !a.ok);
    p = binomUpperTail(fails, all.length, 1 - cfg.unreachableRatio);
    how = `${fails} of ${all.length} attempts in the window failed`;
  } else {
    const s = downStreak(all, cfg.minAttempts, cfg.pValue, cfg.consistencyAlpha);
    if (s) {
      failing = all.slice(all.length - s.length);
      p = s.p;
      how = `the last ${s.length} attempts all failed (after ${s.before} attempts that mostly worked; chance p=${prob(s.p)})`;
    }
  }
  if (!failing) return undefined;
  const t = tally(failing);
  const cls = dominantClass(t)!;
  const evidence = [`It never works now: ${how}; reasons: ${reasonsText(t.reasons)}.`];
  const confidence = 1 - p;
  if (cls === 'refused') {
    const nodes = c.placementKnown ? Object.keys(c.placement!.endpointsPerNode).sort() : [];
    if (c.placement && totalEndpoints(c.placement) === 0) evidence.push('The Service has no ready endpoint: kube-proxy rejects the connections.');
    return { verdict: 'backend_refused', confidence, suspectedNodes: nodes, expectedFailureRatio: nodes.length ? 1 : null, summary: `${c.name}: every connection is refused (${reasonsText(t.reasons)})`, evidence };
  }
  if (cls === 'app') {
    return { verdict: 'http_errors', confidence, summary: `${c.name}: every response fails the check (${reasonsText(t.reasons)})`, evidence };
  }
  const etp = etpLocalFinding(c, t, confidence, evidence);
  if (etp) return etp;
  if (c.placementKnown && c.placement!.announcerNode && c.placement!.endpointsPerNode[c.placement!.announcerNode] === undefined) {
    evidence.push(`Every ready endpoint is on a node other than the announcer ${c.placement!.announcerNode}.`);
  }
  return { verdict: 'vip_unreachable', confidence, summary: `${c.name}: the VIP does not answer (${reasonsText(t.reasons)}): check other layers first`, evidence };
}

function identityMode(used: readonly Attempt[]): IdentityMode {
  let ok = 0;
  let named = 0;
  for (const a of used) {
    if (!a.ok) continue;
    ok++;
    if (a.backendNode !== undefined) named++;
  }
  return ok > 0 && named / ok >= 0.9 ? 'backend' : 'none';
}

function lastFailureAt(used: readonly Attempt[]): number | null {
  for (let i = used.length - 1; i >= 0; i--) if (!used[i]!.ok) return used[i]!.startedAt;
  return null;
}

function build(c: Ctx, f: Finding): Diagnosis {
  const { input, sample, t, placement } = c;
  const suspected = f.suspectedNodes ?? [];
  const d: Diagnosis = {
    target: input.target.name,
    verdict: f.verdict,
    confidence: clamp01(f.confidence),
    suspectedNodes: suspected,
    candidateNodes: f.candidateNodes ?? suspected,
    identity: c.identity,
    attempts: t.attempts,
    failures: t.failures,
    successes: t.successes,
    slowConnects: t.slow,
    failureRatio: t.attempts ? t.failures / t.attempts : 0,
    impairedRatio: t.attempts ? (t.timeouts + t.byClass.unreachable + t.slow) / t.attempts : 0,
    expectedFailureRatio: f.expectedFailureRatio ?? null,
    pValue: f.pValue ?? null,
    recovered: f.recovered ?? false,
    changePoint: f.changePoint ?? null,
    reasons: t.reasons,
    nodes: {},
    announcerNode: placement?.announcerNode ?? null,
    service: input.target.service ?? input.view?.service ?? null,
    externalTrafficPolicy: placement?.externalTrafficPolicy ?? null,
    placementKnown: c.placementKnown,
    excluded: { stalled: sample.stalled, probeErrors: sample.probeErrors, otherView: sample.otherView },
    viewVersion: placement?.version ?? null,
    summary: f.summary,
    evidence: [],
    remediation: [],
    at: input.now,
    lastFailureAt: lastFailureAt(c.used),
    firstAttemptAt: c.used[0]?.startedAt ?? null,
    lastSeq: sample.lastSeq,
  };
  d.nodes = nodeStats(c, d);
  d.evidence = [windowEvidence(c), ...f.evidence];
  d.remediation = remediation({
    verdict: d.verdict, suspectedNodes: d.suspectedNodes, candidateNodes: d.candidateNodes, announcerNode: d.announcerNode,
    service: d.service, externalTrafficPolicy: d.externalTrafficPolicy, address: input.target.address, port: input.target.port,
    allEndpointsRemote: !!placement && !!placement.announcerNode && totalEndpoints(placement) > 0 && placement.endpointsPerNode[placement.announcerNode] === undefined,
    synTransmissions: c.tx, topReason: topReason(t.reasons), slowConnects: t.slow, timeouts: t.timeouts,
    healthCheckNodePort: input.view?.healthCheckNodePort,
  });
  return d;
}

function nodeStats(c: Ctx, d: Diagnosis): Record<string, DiagnosisNodeStats> {
  const out: Record<string, DiagnosisNodeStats> = {};
  const all = c.sample.placement;
  const get = (n: string) => (out[n] ??= { endpoints: all?.endpointsPerNode[n] ?? 0, successes: 0, failures: 0, lastSuccessAt: null });
  if (all) for (const n of Object.keys(all.endpointsPerNode)) get(n);
  for (const a of c.used) {
    if (a.ok) {
      if (a.backendNode === undefined) continue;
      const s = get(a.backendNode);
      s.successes++;
      s.lastSuccessAt = Math.max(s.lastSuccessAt ?? 0, a.startedAt);
    } else {
      const at = attributeFailure(a, d, c.input.view);
      if (at.node !== 'unknown' && at.node !== 'ambiguous') get(at.node).failures++;
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

function windowEvidence(c: Ctx): string {
  const { sample, t, cfg } = c;
  const parts = [`${t.attempts} attempts in the last ${Math.round(cfg.windowMs / 1000)}s, ${t.failures} failed (${pct(t.attempts ? t.failures / t.attempts : 0)})`];
  if (t.failures) parts.push(reasonsText(t.reasons));
  const ex: string[] = [];
  if (sample.stalled) ex.push(`${sample.stalled} made while the probe itself stalled`);
  if (sample.probeErrors) ex.push(`${sample.probeErrors} vipwatch could not make (probe_error: its own resources ran out)`);
  if (sample.otherView) ex.push(`${sample.otherView} under an earlier cluster view`);
  if (ex.length) parts.push(`left out: ${ex.join(', ')}`);
  if (c.placement?.stale) parts.push('cluster view stale: no node-level conclusions');
  else if (!c.placement) parts.push('no cluster view');
  return parts.join('; ') + '.';
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}

