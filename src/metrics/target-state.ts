import { Gauge, type Registry } from 'prom-client';
import type { TargetConfig } from '../config/targets.js';
import type { TargetHistory } from '../history/history.js';

/**
 * A target's coarse status from its 1-minute window, as the status page, /api/v1/targets and the "target status
 * changed" log line have it (src/schedule/target-status.ts computes it; the app passes that function in, as metrics
 * sits below schedule). tsc checks that the two lists agree where the app wires them.
 */
export const TARGET_STATES = ['unknown', 'healthy', 'degraded', 'down'] as const;
export type TargetState = (typeof TARGET_STATES)[number];

export interface TargetStateSource {
  targets(): { target: TargetConfig; history: TargetHistory | undefined }[];
  now(): number;
  statusOf(history: TargetHistory | undefined, now: number): TargetState;
}

/**
 * vipwatch_target_up and vipwatch_target_state, read at scrape time.
 *
 * The convention: `up` is the status page's verdict, not the newest attempt's result (blackbox's probe_success). At a
 * probe every 2 s a VIP that loses one connection in three (the asymmetric-routing signature) would flip a per-attempt
 * gauge on every other scrape, so `up == 0 for 2m` could never fire and a panel would be noise; the 1-minute window
 * says "down" only when every attempt failed (at least 3 of them), which is what "up 0" should mean, and the same word
 * the status page shows. Partial failure is `degraded` (up 1): failure_ratio and the incidents tell it. A target
 * probed less often than every 20 s has fewer than 3 attempts a minute and so never reads down: alert on
 * vipwatch_failure_ratio{window="5m"} == 1 for those. `unknown` has no `up` series (nothing to say, as
 * vipwatch_failure_ratio is absent while its window is empty); the state gauge shows it.
 */
export function registerTargetState(registry: Registry, source: TargetStateSource): void {
  const registers = [registry];
  const statuses = () => {
    const now = source.now();
    return source.targets().map(({ target, history }) => ({ name: target.name, status: source.statusOf(history, now) }));
  };
  new Gauge({
    name: 'vipwatch_target_up',
    help: 'Whether the target answers, from its 1-minute window (vipwatch_target_state): 1 while healthy or degraded, 0 while down (every attempt of the last minute failed, at least 3 of them); absent while unknown (no attempt in the last minute).',
    labelNames: ['target'], registers,
    collect() {
      this.reset();
      for (const { name, status } of statuses()) if (status !== 'unknown') this.labels(name).set(status === 'down' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'vipwatch_target_state',
    help: 'The target\'s status as a label set, 1 for the current state and 0 for the others: healthy (no failure in the last minute), degraded (some attempts failed, or all of fewer than 3), down (every attempt failed, at least 3), unknown (no attempt in the last minute).',
    labelNames: ['target', 'state'], registers,
    collect() {
      this.reset();
      for (const { name, status } of statuses()) for (const s of TARGET_STATES) this.labels(name, s).set(s === status ? 1 : 0);
    },
  });
}
