/**
 * When the VIP's announcing node changed, as the attempts saw it (each attempt carries the cluster view it was made
 * under): the last 24 hours of changes, at most MAX_CHANGES, for the status page's time axis and the digest.
 */

export interface AnnouncerChange {
  /** Epoch ms of the first attempt made under this announcer. */
  at: number;
  /** The announcing node; null when the view names none (no cluster view, or no announcer known). */
  node: string | null;
}

export const MAX_CHANGES = 64;
const KEEP_MS = 24 * 3_600_000;

export class AnnouncerTimeline {
  private readonly changes: AnnouncerChange[] = [];

  observe(at: number, node: string | null | undefined): void {
    const n = node ?? null;
    const last = this.changes[this.changes.length - 1];
    if (last && last.node === n) return;
    if (last && at < last.at) return; // an attempt that started before the newest change: its view is older
    this.changes.push({ at, node: n });
    if (this.changes.length > MAX_CHANGES) this.changes.shift();
  }

  /** The changes of the last 24 h, oldest first, led by the announcer in force 24 h ago (if known). */
  list(now: number): AnnouncerChange[] {
    const from = now - KEEP_MS;
    let first = 0;
    while (first < this.changes.length - 1 && this.changes[first + 1]!.at <= from) first++;
    return this.changes.slice(first).map((c) => ({ ...c }));
  }

  /** The announcer now, as the newest attempt saw it. */
  current(): string | null {
    return this.changes[this.changes.length - 1]?.node ?? null;
  }
}
