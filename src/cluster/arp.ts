import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { sleep, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { normalMac } from '../lib/mac.js';
import { sameList } from '../lib/same-list.js';
import type { MacChange } from './types.js';

export interface NeighbourEntry {
  ip: string;
  mac: string;
  device: string;
}

const MAX_CHANGES = 20;
/**
 * A read of the table this recent serves an attempt's start or end: far below the 1 s between a SYN and its first
 * retransmission, so a flip it misses cannot change where the attempt's packets went, and attempts starting together
 * (a burst, many targets) share one read: at most 50 reads a second whatever the number of targets.
 */
export const NEIGHBOUR_FRESH_MS = 20;
/**
 * A read may cost at most 1/READ_BUDGET of the time between reads: a host with a huge neighbour table (tens of thousands
 * of entries on a big L2 segment) gets reads further apart instead of a probe that spends its CPU parsing the table.
 */
const READ_BUDGET = 50;
/** Reads further apart than this are logged once: the per-attempt MAC is then coarser than the table's flips may be. */
const SLOW_READS_MS = 200;
/** Reads whose cheapest cost sets the spacing: a run of slow reads on a busy machine (GC, another process on the core) is not a large table. */
const COST_SAMPLES = 4;

/** Parses /proc/net/arp; incomplete entries (flags 0x0 or an all-zero MAC) are left out. */
export function parseArpTable(text: string): NeighbourEntry[] {
  const out: NeighbourEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const [ip, , flags, raw, , device] = f as [string, string, string, string, string, string];
    const mac = normalMac(raw);
    if (flags === '0x0' || !mac) continue;
    out.push({ ip, mac, device });
  }
  return out;
}

export interface ArpWatcherOptions {
  file: string;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
  /** The VIPs whose MAC history is kept (others are only looked up). */
  vips(): Iterable<string>;
  /** Names the node(s) owning a MAC, through the MACs of Node InternalIPs; used to label changes. */
  nodesForMac(mac: string): string[];
  onChange?(): void;
}

/**
 * Reads the neighbour table on an interval and remembers, per VIP, the MACs seen and every change with its time.
 * Only meaningful when the probe shares the VIP's L2 segment; an unreadable file is logged once and retried.
 */
export class ArpWatcher {
  private table = new Map<string, string[]>();
  private readonly lastMacs = new Map<string, { macs: string[]; since: number }>();
  private readonly changes = new Map<string, MacChange[]>();
  private readErrorLogged = false;
  /** Epoch ms of the last read that reached the table (undefined: never). */
  private readAt: number | undefined;
  /** How long a synchronous read may be reused: NEIGHBOUR_FRESH_MS, longer when reads are costly. */
  private freshMs = NEIGHBOUR_FRESH_MS;
  private slowLogged = false;
  /** Costs of the last COST_SAMPLES reads, oldest first. */
  private readonly costsMs: number[] = [];

  constructor(private readonly o: ArpWatcherOptions) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.poll(signal);
      try {
        await sleep(this.o.clock, this.o.intervalMs, signal);
      } catch {
        return;
      }
    }
  }

  /** Reads the table once and records MAC changes of known VIPs. */
  async poll(signal?: AbortSignal): Promise<void> {
    const startedAt = this.o.clock.now();
    let text: string;
    try {
      text = await readFile(this.o.file, { encoding: 'utf8', signal });
    } catch (err) {
      if (!signal?.aborted) this.readFailed(err);
      return;
    }
    // A synchronous read made while this one was in flight saw a newer table: this one would turn time back.
    if (this.readAt !== undefined && startedAt < this.readAt) return;
    this.ingest(text, startedAt);
  }

  /**
   * Brings the table up to date for an attempt starting or ending now: one synchronous read of the (small, in-memory)
   * neighbour table unless one was made in the last NEIGHBOUR_FRESH_MS. A slow poll alone could not say which MAC an
   * attempt went to when the entry flips every few seconds.
   */
  refresh(): void {
    const now = this.o.clock.now();
    if (this.readAt !== undefined && now - this.readAt < this.freshMs && now >= this.readAt) return;
    // The cost is CPU time, not elapsed time: on a busy machine a read descheduled halfway did not cost more.
    const cpu0 = process.cpuUsage();
    let text: string;
    try {
      text = readFileSync(this.o.file, 'utf8');
    } catch (err) {
      this.readAt = now; // an unreadable file is not retried more often than a readable one is read
      this.readFailed(err);
      return;
    }
    this.ingest(text, now);
    const cpu = process.cpuUsage(cpu0);
    this.budget((cpu.user + cpu.system) / 1000);
  }

  /**
   * Spaces synchronous reads so that they cost at most 1/READ_BUDGET of the time (CPU time measured, not the clock), by the
   * cheapest of the last COST_SAMPLES reads: slow reads (the first, cold one; GC pauses; a core shared with a busy
   * process) do not stretch the spacing or claim the table is large unless every one of them was slow.
   */
  private budget(costMs: number): void {
    if (this.costsMs.push(costMs) > COST_SAMPLES) this.costsMs.shift();
    const cost = Math.min(...this.costsMs);
    this.freshMs = Math.max(NEIGHBOUR_FRESH_MS, Math.ceil(cost * READ_BUDGET));
    if (this.freshMs > SLOW_READS_MS && !this.slowLogged) {
      this.slowLogged = true;
      this.o.logger.warn('the neighbour table is large: per-attempt reads are spaced out, so the MAC an attempt went to is known to within this', { file: this.o.file, readMs: Math.round(costMs), spacingMs: this.freshMs });
    }
  }

  /** How long a read serves attempts now (NEIGHBOUR_FRESH_MS unless reads are costly). */
  get readSpacingMs(): number {
    return this.freshMs;
  }

  private readFailed(err: unknown): void {
    if (!this.readErrorLogged) this.o.logger.warn('cannot read the neighbour table; ARP announcer detection is off until it can', { file: this.o.file, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    this.readErrorLogged = true;
  }

  /** Takes in a table read at `now`: the MACs per IP, and the changes of known VIPs' MACs. */
  private ingest(text: string, now: number): void {
    if (this.readErrorLogged) this.o.logger.info('neighbour table readable again', { file: this.o.file });
    this.readErrorLogged = false;
    this.readAt = now;
    const table = new Map<string, string[]>();
    for (const e of parseArpTable(text)) {
      const macs = table.get(e.ip) ?? [];
      if (!macs.includes(e.mac)) macs.push(e.mac);
      table.set(e.ip, macs.sort());
    }
    this.table = table;
    let changed = false;
    for (const vip of this.o.vips()) {
      const macs = table.get(vip);
      if (!macs) continue; // an expired entry is absence of evidence, not a change
      const prev = this.lastMacs.get(vip);
      if (prev && sameList(prev.macs, macs)) continue;
      this.lastMacs.set(vip, { macs, since: now });
      changed = true;
      if (!prev) continue;
      const change: MacChange = {
        at: now, ip: vip, from: prev.macs, to: macs,
        fromNodes: prev.macs.flatMap((m) => this.o.nodesForMac(m)),
        toNodes: macs.flatMap((m) => this.o.nodesForMac(m)),
      };
      const list = this.changes.get(vip) ?? [];
      list.push(change);
      if (list.length > MAX_CHANGES) list.shift();
      this.changes.set(vip, list);
      this.o.logger.warn('VIP MAC changed (failover or split brain)', { vip, from: change.from, to: change.to, fromNodes: change.fromNodes, toNodes: change.toNodes });
    }
    if (changed) this.o.onChange?.();
  }

  /** MACs currently in the table for an IP (several: split brain or several interfaces). */
  macsFor(ip: string): string[] {
    return this.table.get(ip) ?? [];
  }

  /** Epoch ms since which the VIP has had its current MACs. */
  sinceFor(ip: string): number | undefined {
    return this.lastMacs.get(ip)?.since;
  }

  changesFor(ip: string): MacChange[] {
    return [...(this.changes.get(ip) ?? [])];
  }
}
