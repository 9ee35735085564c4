/**
 * The incident lifecycle, one open incident per target at a time (its kind may change: a refined verdict updates the
 * same incident instead of raising a second alert):
 * - open: a verdict (kind, confidence >= minConfidence) holds continuously for as long as its evidence asks
 *   (openHoldMs: marginalHold for a marginal verdict, at once for an overwhelming one, never less than openAfter);
 * - update: another kind or another set of suspected nodes holds as long, with failures made while it held;
 * - resolve (resolve-rule.ts): the attempts since the diagnosis's change point fail significantly less often than the
 *   incident did (at pValue) for at least resolveAfter, or, for low-ratio incidents, the ratio stays below resolveBelow
 *   for 2 m; with backend identity every node with endpoints has served a success since;
 * - re-open: a fault that comes back within reopenWithin re-opens the resolved incident (same id, `reopens` + 1);
 * - remind: every repeatInterval while open.
 * A target that leaves the configuration or discovery has its open incident resolved as `target_removed` (so every
 * sink closes its alert) by retainTargets(); incidents are persisted atomically and restored by load().
 */
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { TargetConfig } from '../config/targets.js';
import type { Diagnosis } from '../diagnosis/types.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { KeyedQueue } from '../lib/keyed-queue.js';
import type { Logger } from '../lib/logger.js';
import { pct, prob } from '../diagnosis/format.js';
import { evidenceStrength, OVERWHELMING } from '../diagnosis/strength.js';
import type { KernelEvidenceSource } from '../evidence/types.js';
import { attachKernel } from './kernel.js';
import { applyDiagnosis, newIncident } from './record.js';
import { faultRate, QUIET_RESOLVE_MS, quietRatio, resolveHoldMs, verifiedChange } from './resolve-rule.js';
import { IncidentStore } from './store.js';
import { INCIDENT_KINDS, type Incident, type IncidentEvent, type IncidentEventType, type IncidentKind } from './types.js';

export interface IncidentManagerOptions {
  /** Directory of the incident records, e.g. join(state.dir, 'incidents'). */
  dir: string;
  clock: Clock;
  config: DiagnosisConfig;
  logger: Logger;
  /** Kernel evidence from the node evidence agents (agents configured), for asymmetric-routing incidents. */
  kernel?: KernelEvidenceSource;
}

export interface UpdateStats {
  /** Seq of the target's newest attempt; defaults to diagnosis.lastSeq. Counts attempts for the verification. */
  seq?: number;
}

interface Entry {
  incident: Incident;
  lastNotifiedAt: number;
  persistedAt: number;
}

interface TargetState {
  /** The kind holding at confidence, since when. */
  holding?: { kind: IncidentKind; since: number };
  /** For an open incident: a different kind or node set holding, since when. */
  change?: { key: string; since: number };
  resolveSince?: number;
  resolveSeq?: number;
}

/**
 * How long a verdict must have held before it opens (or changes) an incident: evidence-weighted. The verdict's chance
 * under "nothing is wrong" (its p-value, or 1 - confidence) against the bound it had to pass (pValue, or
 * 1 - minConfidence): just past the bound waits marginalHold; at the bound squared or beyond it opens at once; between,
 * the wait falls linearly in the log of the evidence. Never less than openAfter.
 */
export function openHoldMs(d: Pick<Diagnosis, 'pValue' | 'confidence'>, cfg: Pick<DiagnosisConfig, 'pValue' | 'minConfidence' | 'openAfterMs' | 'marginalHoldMs'>): number {
  const strength = evidenceStrength(d, cfg);
  const scale = Math.min(1, Math.max(0, OVERWHELMING - strength));
  return Math.max(cfg.openAfterMs, scale * cfg.marginalHoldMs);
}

/** Numbers of an open incident are refreshed on disk at most this often between events. */
const REFRESH_PERSIST_MS = 60_000;
/** Resolution waits for every node with endpoints to serve again, but not longer than this many resolveAfter. */
const VERIFY_WAIT_FACTOR = 3;

export class IncidentManager {
  private readonly store: IncidentStore;
  private readonly byId = new Map<string, Entry>();
  private readonly openByTarget = new Map<string, string>();
  private readonly state = new Map<string, TargetState>();
  private readonly known = new Set<string>();
  /** Per target: async steps must not interleave. */
  private readonly locks = new KeyedQueue();
  private readonly config: DiagnosisConfig;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly kernel?: KernelEvidenceSource;

  constructor(opts: IncidentManagerOptions) {
    this.kernel = opts.kernel;
    this.clock = opts.clock;
    this.config = opts.config;
    this.logger = opts.logger;
    this.store = new IncidentStore(opts.dir, opts.logger);
  }

  /** Restores open and recently resolved incidents; drops (and deletes) resolved ones older than keepResolved. */
  async load(): Promise<void> {
    const now = this.clock.now();
    for (const rec of await this.store.loadAll(now)) {
      const inc = rec.incident;
      if (inc.status === 'resolved' && now - Date.parse(inc.resolvedAt ?? inc.updatedAt) > this.config.keepResolvedMs) {
        await this.store.remove(inc.id).catch(() => {});
        continue;
      }
      if (inc.status === 'open') {
        const other = this.openByTarget.get(inc.target);
        // Two open records for one target cannot be produced by this manager; keep the newer one open.
        if (other && this.byId.get(other)!.incident.startedAt > inc.startedAt) continue;
        this.openByTarget.set(inc.target, inc.id);
        this.known.add(inc.target);
      }
      this.byId.set(inc.id, { incident: inc, lastNotifiedAt: rec.lastNotifiedAt, persistedAt: now });
    }
    this.logger.info('incidents restored', { open: this.openByTarget.size, total: this.byId.size });
  }

  /** Drives the state machine of one target with its newest diagnosis; returns the events to notify (already persisted). */
  update(target: TargetConfig, d: Diagnosis, stats: UpdateStats = {}): Promise<IncidentEvent[]> {
    return this.locks.run(target.name, () => this.step(target, d, stats.seq ?? d.lastSeq));
  }

  /**
   * Resolves (as `target_removed`) the open incidents of targets not in `names`, and forgets their state. Call it
   * after load() and on every config reload or discovery change.
   */
  async retainTargets(names: Iterable<string>): Promise<IncidentEvent[]> {
    const keep = new Set(names);
    const events: IncidentEvent[] = [];
    for (const target of [...new Set([...this.openByTarget.keys(), ...this.known])]) {
      if (keep.has(target)) continue;
      events.push(...(await this.locks.run(target, () => this.removeTarget(target))));
    }
    return events;
  }

  /** Reminders and pruning for all targets, for a periodic timer (update() reminds too). */
  async tick(): Promise<IncidentEvent[]> {
    const events: IncidentEvent[] = [];
    for (const target of [...this.openByTarget.keys()]) {
      events.push(...(await this.locks.run(target, async () => {
        const e = this.openEntry(target);
        return e ? this.remindIfDue(e, this.clock.now()) : [];
      })));
    }
    await this.prune(this.clock.now());
    return events;
  }

  /** Open incidents first (newest first), then recently resolved ones; copies. */
  list(opts: { includeResolved?: boolean } = {}): Incident[] {
    const all = [...this.byId.values()].map((e) => e.incident).filter((i) => opts.includeResolved !== false || i.status === 'open');
    return all
      .sort((a, b) => (a.status === b.status ? b.startedAt.localeCompare(a.startedAt) : a.status === 'open' ? -1 : 1))
      .map((i) => structuredClone(i));
  }

  /** The open incident of a target, if any (a copy). */
  openFor(target: string): Incident | undefined {
    const e = this.openEntry(target);
    return e ? structuredClone(e.incident) : undefined;
  }

  /** Targets the manager knows (diagnosed or with an open incident): what the metrics report. */
  knownTargets(): string[] {
    return [...this.known].sort();
  }

  private async step(target: TargetConfig, d: Diagnosis, seq: number): Promise<IncidentEvent[]> {
    const cfg = this.config;
    const now = this.clock.now();
    this.known.add(target.name);
    const st = this.targetState(target.name);
    const kind = holdingKind(d, cfg);
    if (kind) {
      if (st.holding?.kind !== kind) st.holding = { kind, since: now };
    } else st.holding = undefined;

    const entry = this.openEntry(target.name);
    this.watchNodes(target.name, kind === 'asymmetric_routing' ? d.suspectedNodes : [], entry?.incident);
    if (!entry) {
      st.change = undefined;
      st.resolveSince = st.resolveSeq = undefined;
      if (kind && now - st.holding!.since >= openHoldMs(d, cfg)) {
        st.holding = { kind, since: now };
        const back = this.reopenable(target.name, now);
        if (back) return [await this.reopen(back, target, d, kind, now)];
        const inc = newIncident(target, d, kind, now, cfg);
        attachKernel(inc, this.kernel, { raise: true });
        const e: Entry = { incident: inc, lastNotifiedAt: now, persistedAt: now };
        await this.persist(e, now);
        this.byId.set(inc.id, e);
        this.openByTarget.set(target.name, inc.id);
        this.logger.warn('incident opened', { target: target.name, id: inc.id, kind, suspectedNodes: inc.suspectedNodes, confidence: inc.confidence });
        return [event('open', inc, now)];
      }
      return [];
    }

    const inc = entry.incident;
    const events: IncidentEvent[] = [];
    if (kind) {
      const key = `${kind}|${[...d.suspectedNodes].sort().join(',')}`;
      const current = `${inc.kind}|${[...inc.suspectedNodes].sort().join(',')}`;
      if (key === current) {
        st.change = undefined;
        applyDiagnosis(inc, target, d, kind, now, cfg);
        attachKernel(inc, this.kernel, { raise: true });
        if (now - entry.persistedAt >= REFRESH_PERSIST_MS) await this.persist(entry, now);
      } else {
        if (st.change?.key !== key) st.change = { key, since: now };
        // A new kind or node set must be backed by failures made while it held: once the cause is fixed, the
        // failures left in the window can read as another kind (e.g. loss "not tied to a node" once the broken node
        // serves again), and that is a recovery, not a new problem.
        const freshFailures = d.lastFailureAt !== null && d.lastFailureAt >= st.change.since;
        if (now - st.change.since >= openHoldMs(d, cfg) && freshFailures) {
          const before = { kind: inc.kind, suspectedNodes: inc.suspectedNodes };
          applyDiagnosis(inc, target, d, kind, now, cfg);
          attachKernel(inc, this.kernel, { raise: true });
          entry.lastNotifiedAt = now;
          await this.persist(entry, now);
          st.change = undefined;
          this.logger.warn('incident updated', { target: target.name, id: inc.id, from: before, kind: inc.kind, suspectedNodes: inc.suspectedNodes });
          events.push(event('update', inc, now));
        }
      }
    } else st.change = undefined;

    const resolved = await this.maybeResolve(entry, d, kind, seq, now);
    if (resolved) return [...events, resolved];
    return [...events, ...(await this.remindIfDue(entry, now))];
  }

  private async maybeResolve(entry: Entry, d: Diagnosis, kind: IncidentKind | undefined, seq: number, now: number): Promise<IncidentEvent | undefined> {
    const cfg = this.config;
    const inc = entry.incident;
    const st = this.targetState(inc.target);
    if (kind === inc.kind) {
      st.resolveSince = st.resolveSeq = undefined;
      return undefined;
    }
    const hold = resolveHoldMs(inc, cfg);
    // Verified: the attempts since the change point (without one, every attempt judged: after a restart the fault's
    // attempts are gone) fail significantly less often than the incident did.
    const vc = kind ? undefined : verifiedChange(inc, d, cfg, { kind: 'window', at: d.firstAttemptAt ?? now, attempts: d.attempts, failures: d.failures });
    if (vc && now - vc.changePoint.at >= hold) {
      const v = verification(d, vc.changePoint.at, vc.changePoint.attempts);
      if (v.verifiedBy !== 'backend_identity' || v.allNodesServed) {
        v.since = new Date(vc.changePoint.at).toISOString();
        v.pValue = vc.p;
        const cp = vc.changePoint;
        const which = cp.kind === 'window' ? `the ${cp.attempts} attempts in the window` : `the ${cp.attempts} attempts since ${v.since}`;
        inc.evidence = [...inc.evidence, `Resolved: ${cp.failures} of ${which} failed${cp.node ? ` (${cp.node} served again then)` : ''}; at the incident's failure rate of ${pct(faultRate(inc))} so few would happen by chance with p=${prob(vc.p)}.`];
        return this.resolve(entry, v, now);
      }
    }
    // Quiet: too few attempts say nothing either way: the timer neither starts nor resets.
    if (d.attempts < cfg.minAttempts && !d.recovered) return undefined;
    if (quietRatio(inc, d) >= cfg.resolveBelow) {
      st.resolveSince = st.resolveSeq = undefined;
      return undefined;
    }
    if (st.resolveSince === undefined) {
      st.resolveSince = now;
      st.resolveSeq = seq;
    }
    const waited = now - st.resolveSince;
    const quietHold = Math.max(hold, QUIET_RESOLVE_MS);
    if (waited < quietHold) return undefined;
    const v = verification(d, st.resolveSince, seq - st.resolveSeq!);
    // With identity, wait (bounded) until every node with endpoints has served again: the guide's "test multiple times".
    if (v.verifiedBy === 'backend_identity' && !v.allNodesServed && waited < quietHold * VERIFY_WAIT_FACTOR) return undefined;
    return this.resolve(entry, v, now);
  }

  private async resolve(entry: Entry, v: NonNullable<Incident['verification']>, now: number): Promise<IncidentEvent> {
    const inc = entry.incident;
    const st = this.targetState(inc.target);
    // The kernel after the fix: the counter stopped rising, the interfaces no longer strict.
    attachKernel(inc, this.kernel, { raise: false });
    this.kernel?.want(inc.target, []);
    inc.status = 'resolved';
    inc.resolvedAt = new Date(now).toISOString();
    inc.updatedAt = inc.resolvedAt;
    inc.resolvedReason = 'recovered';
    inc.verification = v;
    await this.persist(entry, now);
    this.openByTarget.delete(inc.target);
    st.resolveSince = st.resolveSeq = undefined;
    st.holding = undefined;
    this.logger.info('incident resolved', { target: inc.target, id: inc.id, kind: inc.kind, verification: v });
    return event('resolved', inc, now);
  }

  /** Kernel evidence is read for the nodes an asymmetric-routing verdict names (a baseline before the incident opens) and the open incident's. */
  private watchNodes(target: string, verdictNodes: readonly string[], open: Incident | undefined): void {
    if (!this.kernel) return;
    const nodes = new Set(verdictNodes);
    if (open?.kind === 'asymmetric_routing') for (const n of open.suspectedNodes) nodes.add(n);
    this.kernel.want(target, [...nodes]);
  }

  /** The target's incident resolved (recovered) within reopenWithin, if any: a fault coming back re-opens it. */
  private reopenable(target: string, now: number): Entry | undefined {
    if (this.config.reopenWithinMs <= 0) return undefined;
    let best: Entry | undefined;
    for (const e of this.byId.values()) {
      const i = e.incident;
      if (i.target !== target || i.status !== 'resolved' || i.resolvedReason !== 'recovered' || i.resolvedAt === null) continue;
      if (now - Date.parse(i.resolvedAt) > this.config.reopenWithinMs) continue;
      if (!best || i.resolvedAt > best.incident.resolvedAt!) best = e;
    }
    return best;
  }

  private async reopen(e: Entry, target: TargetConfig, d: Diagnosis, kind: IncidentKind, now: number): Promise<IncidentEvent> {
    const inc = e.incident;
    const resolvedAt = inc.resolvedAt;
    inc.status = 'open';
    inc.resolvedAt = null;
    delete inc.resolvedReason;
    delete inc.verification;
    inc.reopens = (inc.reopens ?? 0) + 1;
    inc.reopenedAt = new Date(now).toISOString();
    applyDiagnosis(inc, target, d, kind, now, this.config);
    attachKernel(inc, this.kernel, { raise: true });
    inc.evidence = [...inc.evidence, `Re-opened (${inc.reopens} time${inc.reopens === 1 ? '' : 's'}): the fault came back ${Math.round((now - Date.parse(resolvedAt!)) / 1000)} s after this incident resolved; it must now stay clean ${Math.round(resolveHoldMs(inc, this.config) / 1000)} s to resolve.`];
    e.lastNotifiedAt = now;
    await this.persist(e, now);
    this.openByTarget.set(target.name, inc.id);
    this.logger.warn('incident re-opened', { target: target.name, id: inc.id, kind, reopens: inc.reopens, suspectedNodes: inc.suspectedNodes });
    return event('open', inc, now);
  }

  private async remindIfDue(entry: Entry, now: number): Promise<IncidentEvent[]> {
    if (entry.incident.status !== 'open' || now - entry.lastNotifiedAt < this.config.repeatIntervalMs) return [];
    entry.lastNotifiedAt = now;
    await this.persist(entry, now);
    return [event('reminder', entry.incident, now)];
  }

  private async removeTarget(target: string): Promise<IncidentEvent[]> {
    this.state.delete(target);
    this.kernel?.want(target, []);
    this.known.delete(target);
    const entry = this.openEntry(target);
    if (!entry) return [];
    const now = this.clock.now();
    const inc = entry.incident;
    inc.status = 'resolved';
    inc.resolvedAt = new Date(now).toISOString();
    inc.updatedAt = inc.resolvedAt;
    inc.resolvedReason = 'target_removed';
    inc.verification = { attemptsSince: 0, nodesServing: [], nodesNotServing: [], allNodesServed: false, verifiedBy: 'none' };
    await this.persist(entry, now);
    this.openByTarget.delete(target);
    this.logger.info('incident closed: target removed', { target, id: inc.id });
    return [event('resolved', inc, now)];
  }

  private async prune(now: number): Promise<void> {
    for (const [id, e] of this.byId) {
      const inc = e.incident;
      if (inc.status !== 'resolved' || now - Date.parse(inc.resolvedAt!) <= this.config.keepResolvedMs) continue;
      this.byId.delete(id);
      await this.store.remove(id).catch((err) => this.logger.warn('could not delete an old incident record', { id, error: errorMessage(err) }));
    }
  }

  private async persist(e: Entry, now: number): Promise<void> {
    await this.store.save({ incident: e.incident, lastNotifiedAt: e.lastNotifiedAt });
    e.persistedAt = now;
  }

  private openEntry(target: string): Entry | undefined {
    const id = this.openByTarget.get(target);
    return id === undefined ? undefined : this.byId.get(id);
  }

  private targetState(target: string): TargetState {
    let s = this.state.get(target);
    if (!s) this.state.set(target, (s = {}));
    return s;
  }
}

function holdingKind(d: Diagnosis, cfg: DiagnosisConfig): IncidentKind | undefined {
  const k = d.verdict as IncidentKind;
  return INCIDENT_KINDS.includes(k) && d.confidence >= cfg.minConfidence ? k : undefined;
}

function verification(d: Diagnosis, since: number, attemptsSince: number): NonNullable<Incident['verification']> {
  if (d.identity !== 'backend' || !d.placementKnown) {
    return { attemptsSince, nodesServing: [], nodesNotServing: [], allNodesServed: false, verifiedBy: 'failure_ratio' };
  }
  const serving: string[] = [];
  const notServing: string[] = [];
  for (const [n, s] of Object.entries(d.nodes)) {
    if (s.endpoints <= 0) continue;
    (s.lastSuccessAt !== null && s.lastSuccessAt >= since ? serving : notServing).push(n);
  }
  return { attemptsSince, nodesServing: serving.sort(), nodesNotServing: notServing.sort(), allNodesServed: notServing.length === 0, verifiedBy: 'backend_identity' };
}

function event(type: IncidentEventType, incident: Incident, at: number): IncidentEvent {
  return { type, incident: structuredClone(incident), at };
}
