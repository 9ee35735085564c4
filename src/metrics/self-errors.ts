/**
 * Attempts vipwatch could not make because it ran out of something itself (reason `probe_error`): out of file
 * descriptors, ephemeral ports, memory or socket buffers. They say nothing about the VIP, so they are counted apart,
 * logged once per kind and episode (not once per attempt: a process out of fds would flood its own log), and shown as
 * a gauge that is 1 while an episode lasts, an alert that needs no rate() window.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Attempt } from '../history/attempt.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';

/** What to look at, per kind. */
const HINTS: Record<string, string> = {
  EMFILE: "the process's file-descriptor limit: raise it (ulimit -n, systemd LimitNOFILE) or lower server.maxConnections and the number of targets",
  ENFILE: 'the system-wide file limit (fs.file-max): something on this host holds too many files',
  EADDRNOTAVAIL: 'ephemeral ports are used up (net.ipv4.ip_local_port_range, sockets in TIME_WAIT): fewer or slower targets, or a wider port range',
  ENOBUFS: 'the kernel had no buffer space for the socket: memory pressure or net.core limits on this host',
  ENOMEM: 'the kernel or process is out of memory',
};

interface Episode {
  /** Monotonic ms of the first and the newest error of this episode. */
  first: number;
  last: number;
  attempts: number;
  targets: Set<string>;
}

export interface SelfErrorOptions {
  clock: Clock;
  logger: Logger;
  /** An episode ends after this long without an error of its kind (default 60 s). */
  quietMs?: number;
}

export class SelfErrorMonitor {
  private readonly episodes = new Map<string, Episode>();
  private readonly total: Counter<'kind'>;
  private readonly quietMs: number;

  constructor(registry: Registry, private readonly o: SelfErrorOptions) {
    this.quietMs = o.quietMs ?? 60_000;
    const registers = [registry];
    this.total = new Counter({
      name: 'vipwatch_probe_self_errors_total', labelNames: ['kind'], registers,
      help: 'Attempts vipwatch could not make because it ran out of a resource itself (reason probe_error), by errno (EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS, ENOMEM).',
    });
    const episodes = this.episodes;
    const active = (e: Episode) => o.clock.monotonic() - e.last < this.quietMs;
    new Gauge({
      name: 'vipwatch_probe_self_error', labelNames: ['kind'], registers,
      help: 'Whether vipwatch is losing attempts to its own resources right now: 1 while an episode of that kind lasts (an error within the last minute), then 0.',
      collect() {
        this.reset();
        for (const [kind, e] of episodes) this.labels(kind).set(active(e) ? 1 : 0);
      },
    });
  }

  /** Call with every recorded attempt (cheap for anything but a probe_error). */
  observe(a: Attempt): void {
    if (a.ok || a.reason !== 'probe_error') {
      if (this.episodes.size) this.closeQuiet();
      return;
    }
    const kind = a.errorCode ?? 'unknown';
    const now = this.o.clock.monotonic();
    this.total.labels(kind).inc();
    let e = this.episodes.get(kind);
    if (e && e.attempts > 0 && now - e.last >= this.quietMs) this.ended(kind, e);
    if (!e || e.attempts === 0) {
      this.episodes.set(kind, (e = { first: now, last: now, attempts: 0, targets: new Set() }));
      this.o.logger.error('probe error: vipwatch itself ran out of a resource; such attempts are recorded as probe_error and left out of the diagnosis (logged once per episode)', {
        kind, target: a.target, detail: a.detail ?? null, check: HINTS[kind] ?? 'the resources of this host and process',
      });
    }
    e.last = now;
    e.attempts++;
    // Bounded: the number of targets is.
    e.targets.add(a.target);
  }

  /** Ends the episodes that have been quiet long enough (each logs one closing line). */
  private closeQuiet(): void {
    const now = this.o.clock.monotonic();
    for (const [kind, e] of this.episodes) if (now - e.last >= this.quietMs && e.attempts > 0) this.ended(kind, e);
  }

  private ended(kind: string, e: Episode): void {
    this.o.logger.warn('probe error episode over: vipwatch could make its attempts again', {
      kind, attempts: e.attempts, targets: e.targets.size, durationMs: Math.round(e.last - e.first),
    });
    // Kept at zero attempts so the gauge still reads 0 for the kind, instead of vanishing.
    e.attempts = 0;
    e.targets.clear();
  }
}
