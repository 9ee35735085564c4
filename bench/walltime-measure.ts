/**
 * The figures of one wall-time run, read from its trace: seconds from the fault's onset to the incident opening (and
 * whether it named node-2), from the fix to its resolving, the diagnosis's own times (first right verdict, first
 * healthy one), how long and how often the diagnosis named a wrong kind while the fault held and after it was fixed,
 * and the incidents and notifications the run raised.
 */
import type { Verdict } from '../src/diagnosis/types.js';
import type { RunTrace } from './walltime-run.js';

/** Wrong kinds: anything but the fault's own kind, insufficient_data or healthy. */
export function wrongKind(v: Verdict): boolean {
  return v !== 'asymmetric_routing' && v !== 'insufficient_data' && v !== 'healthy';
}

export interface WrongKind {
  /** Seconds during which the target's latest verdict was a wrong kind. */
  seconds: number;
  /** Diagnoses that named a wrong kind. */
  diagnoses: number;
  byKind: Record<string, number>;
  /**
   * Of those diagnoses after a fix, the ones whose judged attempts reach back before that fix (a wrong kind read into
   * the fault's leftovers, what issue 12 part 4 forbids); the others judged only attempts made since the fix.
   */
  readingPreFix: number;
}

export interface RunFigures {
  /** Onset -> incident open, seconds; null when none opened while the fault first held. */
  alertS: number | null;
  /** The opening named asymmetric_routing on node-2 alone. */
  namedNode2: boolean;
  /** An incident was open when the fault was fixed for the last time (a short last episode may not have opened one). */
  openAtLastFix: boolean;
  /** Last fix -> resolved, seconds; null when none was open then or it did not resolve by the end of the run. */
  resolveS: number | null;
  /** Onset -> first asymmetric_routing verdict naming node-2 alone (the diagnosis, before any hold), seconds. */
  verdictS: number | null;
  /** Last fix -> first healthy verdict, seconds. */
  healthyS: number | null;
  /** Incidents opened before the onset (false alarms). */
  opensBeforeOnset: number;
  /** While the fault held (every on-period). */
  wrongWhileFaulty: WrongKind;
  /** While the fault was fixed, after the onset (every off-period). */
  wrongAfterFix: WrongKind;
  /** Before the fault started: the control (background loss alone). */
  wrongBeforeOnset: WrongKind;
  incidents: number;
  /** Every incident event: open (re-opens included), update, resolved, reminder. */
  notifications: number;
  opens: number;
}

/**
 * `onset` and `toggles` as given to the run (ms since its start); the fault holds from the onset to the first toggle,
 * from the second to the third, and so on; `endMs` closes the last verdict.
 */
export function measure(trace: RunTrace, onset: number, toggles: readonly number[], endMs: number): RunFigures {
  const firstFix = toggles[0] ?? endMs;
  const lastFix = toggles.length % 2 === 1 ? toggles[toggles.length - 1]! : endMs;
  const faulty = (t: number): boolean => {
    if (t < onset) return false;
    let on = true;
    for (const x of toggles) if (t >= x) on = !on;
    return on;
  };
  const ev = trace.events;
  const open = ev.find((e) => e.type === 'open' && e.at >= onset && e.at < firstFix);
  const lastBeforeFix = ev.filter((e) => e.at < lastFix && (e.type === 'open' || e.type === 'resolved')).pop();
  const openAtLastFix = lastBeforeFix?.type === 'open';
  const resolved = openAtLastFix ? ev.find((e) => e.type === 'resolved' && e.at >= lastFix) : undefined;
  const verdict = trace.verdicts.find((v) => v.at >= onset && v.at < firstFix && v.verdict === 'asymmetric_routing' && onlyNode2(v.suspectedNodes));
  const healthy = trace.verdicts.find((v) => v.at >= lastFix && v.verdict === 'healthy');
  const wrongWhileFaulty = noWrongKind();
  const wrongAfterFix = noWrongKind();
  const wrongBeforeOnset = noWrongKind();
  const cuts = [onset, ...toggles];
  const period = (t: number) => (t < onset ? wrongBeforeOnset : faulty(t) ? wrongWhileFaulty : wrongAfterFix);
  trace.verdicts.forEach((v, i) => {
    if (!wrongKind(v.verdict)) return;
    const w = period(v.at);
    w.diagnoses++;
    w.byKind[v.verdict] = (w.byKind[v.verdict] ?? 0) + 1;
    if (w === wrongAfterFix && v.judgedFrom < toggles.filter((x) => x <= v.at).pop()!) w.readingPreFix++;
    // The verdict holds until the next diagnosis: split that span at the onset and the fault's toggles.
    const until = trace.verdicts[i + 1]?.at ?? endMs;
    let from = v.at;
    for (const c of [...cuts.filter((c) => c > from && c < until), until]) {
      period(from).seconds += (c - from) / 1000;
      from = c;
    }
  });
  const ids = new Set(ev.filter((e) => e.type === 'open').map((e) => e.id));
  return {
    alertS: open ? (open.at - onset) / 1000 : null,
    namedNode2: !!open && open.kind === 'asymmetric_routing' && onlyNode2(open.suspectedNodes),
    openAtLastFix,
    resolveS: resolved ? (resolved.at - lastFix) / 1000 : null,
    verdictS: verdict ? (verdict.at - onset) / 1000 : null,
    healthyS: healthy ? (healthy.at - lastFix) / 1000 : null,
    opensBeforeOnset: ev.filter((e) => e.type === 'open' && e.at < onset).length,
    wrongWhileFaulty,
    wrongAfterFix,
    wrongBeforeOnset,
    incidents: ids.size,
    notifications: ev.length,
    opens: ev.filter((e) => e.type === 'open').length,
  };
}

function noWrongKind(): WrongKind {
  return { seconds: 0, diagnoses: 0, byKind: {}, readingPreFix: 0 };
}

function onlyNode2(nodes: readonly string[]): boolean {
  return nodes.length === 1 && nodes[0] === 'node-2';
}
