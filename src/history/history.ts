import type { Attempt, FailureAttribution } from './attempt.js';
import { AttemptStore } from './attempt-store.js';
import { AnnouncerTimeline } from './announcer-timeline.js';
import { NodeTally, type NodeCounts } from './node-tally.js';
import { TargetSeries } from './series.js';
import { FailureWindows, WINDOWS, type WindowName, type WindowStats } from './windows.js';

/**
 * Per-target memory of recent attempts: a bounded ring in compact form (attempt objects are built only when read) plus
 * bucketed failure windows, a downsampled 1 h / 24 h series and the announcer's changes. Beside each failed attempt it
 * keeps the node the diagnosis attributed it to (the attempt itself never changes), and per-node counts of what it holds.
 */
export class TargetHistory {
  private readonly ring: AttemptStore;
  private readonly windows = new FailureWindows();
  /** Made with the first attribution (a healthy target never has one). */
  private attributions: Map<number, FailureAttribution> | undefined;
  private readonly nodes = new NodeTally();
  private seq = 0;
  /** The failure ratio over the last hour and day, downsampled (charts, digest). */
  readonly series = new TargetSeries();
  /** The announcing node's changes over the last day, as the attempts saw them. */
  readonly announcers = new AnnouncerTimeline();

  constructor(readonly target: string, capacity: number) {
    this.ring = new AttemptStore(capacity);
  }

  get capacity(): number {
    return this.ring.capacity;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  record(a: Attempt): void {
    if (this.ring.full) this.forget(this.ring.oldestSeq, this.ring.oldestServedBy());
    this.ring.push(a);
    if (a.ok && a.backendNode !== undefined) this.nodes.addSuccess(a.backendNode);
    // An attempt vipwatch could not make itself (probe_error) is not the target's failure: kept out of the ratios.
    if (a.ok || a.reason !== 'probe_error') {
      this.windows.record(a.startedAt, a.ok);
      this.series.record(a.startedAt, a.ok, a.reason === 'connect_timeout');
    }
    this.announcers.observe(a.startedAt, a.cluster?.announcerNode);
  }

  /** Records the node a held failed attempt is attributed to (once per attempt: later calls are ignored). */
  attribute(seq: number, at: FailureAttribution): void {
    if (this.attributions?.has(seq) || !this.holds(seq)) return;
    (this.attributions ??= new Map()).set(seq, at);
    this.nodes.addFailure(at.node);
  }

  /** The node a failed attempt was attributed to when it was diagnosed, while the attempt is held. */
  attributionOf(seq: number): FailureAttribution | undefined {
    return this.attributions?.get(seq);
  }

  /** Successes per serving node and failures per attributed node, over the attempts held. */
  nodeCounts(endpointsPerNode: Readonly<Record<string, number>> | undefined): Record<string, NodeCounts> {
    return this.nodes.counts(endpointsPerNode);
  }

  last(): Attempt | undefined {
    return this.ring.last();
  }

  /** Newest `n` attempts, oldest first. */
  recent(n?: number): Attempt[] {
    return this.ring.toArray(n);
  }

  /** Attempts that started within `ms` before `now`, oldest first. */
  since(ms: number, now: number): Attempt[] {
    return this.ring.since(now - ms);
  }

  stats(window: WindowName, now: number): WindowStats {
    return this.windows.stats(window, now);
  }

  allStats(now: number): Record<WindowName, WindowStats> {
    const out = {} as Record<WindowName, WindowStats>;
    for (const w of Object.keys(WINDOWS) as WindowName[]) out[w] = this.windows.stats(w, now);
    return out;
  }

  private holds(seq: number): boolean {
    const last = this.ring.lastSeq;
    return this.ring.size > 0 && seq <= last && seq > last - this.ring.size;
  }

  /** Drops what the history counted for the attempt about to be evicted. */
  private forget(seq: number, servedBy: string | undefined): void {
    if (servedBy !== undefined) this.nodes.addSuccess(servedBy, -1);
    const at = this.attributions?.get(seq);
    if (!at) return;
    this.attributions!.delete(seq);
    this.nodes.addFailure(at.node, -1);
  }
}
