import { DIAGNOSIS_DEFAULTS, type DiagnosisConfig } from '../../src/config/sections/diagnosis.js';
import type { TargetConfig } from '../../src/config/targets.js';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import type { Attempt, AttemptClusterContext } from '../../src/history/attempt.js';

export const T0 = Date.UTC(2026, 0, 1);
export const STEP = 2000;

export const web: TargetConfig = {
  name: 'web', address: '192.0.2.100', port: 80, protocol: 'http', intervalMs: STEP, timeoutMs: 2000, service: 'default/web', origin: 'static',
};

export function context(over: Partial<AttemptClusterContext> = {}): AttemptClusterContext {
  return {
    announcerNode: 'node-1', announcerSource: 'servicel2status', endpointsPerNode: { 'node-1': 1, 'node-2': 1, 'node-3': 1 },
    externalTrafficPolicy: 'Cluster', stale: false, viewVersion: 'v1', metadataAgeMs: 500, ...over,
  };
}

export interface StreamOptions {
  cluster?: AttemptClusterContext | null;
  timeoutMs?: number;
}

/**
 * Builds attempts from a pattern, one character per attempt, STEP ms apart:
 * 1-9 success served by node-N; `.` success without backend identity; `S` slow success (SYN retransmitted, no identity);
 * `X` connect_timeout; `U` unreachable; `R` refused; `r` reset; `H` http_status 500 without identity;
 * `a`-`i` http_status 500 named by node-1..node-9; `s` stalled timeout. Spaces are ignored.
 */
export class Stream {
  readonly attempts: Attempt[] = [];
  private seq = 0;

  constructor(private opts: StreamOptions = {}) {}

  /** Later attempts use this cluster context (null: none). */
  view(cluster: AttemptClusterContext | null): this {
    this.opts = { ...this.opts, cluster };
    return this;
  }

  add(pattern: string, times = 1): this {
    for (let n = 0; n < times; n++) for (const ch of pattern.replace(/\s+/g, '')) this.attempts.push(this.make(ch));
    return this;
  }

  /** Time of the newest attempt plus a millisecond. */
  get now(): number {
    return T0 + (this.seq - 1) * STEP + 1;
  }

  private make(ch: string): Attempt {
    const seq = ++this.seq;
    const timeoutMs = this.opts.timeoutMs ?? 2000;
    const a: { -readonly [K in keyof Attempt]: Attempt[K] } = { seq, target: 'web', startedAt: T0 + (seq - 1) * STEP, ok: true, stalled: false, burst: false, synRetransmit: false, timings: { connectMs: 1, totalMs: 3 } };
    const cluster = this.opts.cluster === undefined ? context() : this.opts.cluster;
    if (cluster) a.cluster = cluster;
    const fail = (reason: Attempt['reason'], totalMs = 1): Attempt => Object.assign(a, { ok: false, reason, timings: { totalMs } });
    if (/[1-9]/.test(ch)) return Object.assign(a, { backend: `node-${ch}-pod`, backendNode: `node-${ch}` });
    if (/[a-i]/.test(ch)) {
      const node = `node-${ch.charCodeAt(0) - 96}`;
      return Object.assign(fail('http_status', 5), { httpStatus: 500, backend: `${node}-pod`, backendNode: node });
    }
    switch (ch) {
      case '.':
        return a;
      case 'S':
        return Object.assign(a, { synRetransmit: true, timings: { connectMs: 1001, totalMs: 1003 } });
      case 'X':
        return fail('connect_timeout', timeoutMs);
      case 'U':
        return fail('unreachable');
      case 'R':
        return fail('refused');
      case 'r':
        return fail('reset');
      case 'H':
        return Object.assign(fail('http_status', 5), { httpStatus: 500 });
      case 's':
        return Object.assign(fail('connect_timeout', timeoutMs), { stalled: true });
      default:
        throw new Error(`unknown pattern character ${ch}`);
    }
  }
}

export function run(s: Stream, opts: { target?: TargetConfig; config?: Partial<DiagnosisConfig>; now?: number } = {}): Diagnosis {
  return diagnose({ target: opts.target ?? web, attempts: s.attempts, now: opts.now ?? s.now, config: { ...DIAGNOSIS_DEFAULTS, ...opts.config } });
}
