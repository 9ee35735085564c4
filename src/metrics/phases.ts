import type { TargetConfig } from '../config/targets.js';

/** A phase of vipwatch_probe_duration_seconds. */
export type Phase = 'connect' | 'tls' | 'first_byte' | 'total';

/**
 * The phases a target's attempts can time, so a target exports only histograms that can ever fill (17 series each):
 * `tls` only for https (the only protocol with a handshake); `first_byte` for http and https, and for tcp only with
 * `tcp.expectRegex` (a tcp check that only connects, or only sends, never reads a byte).
 */
export function phasesOf(t: TargetConfig): Phase[] {
  const phases: Phase[] = ['connect'];
  if (t.protocol === 'https') phases.push('tls');
  if (t.protocol !== 'tcp' || t.tcp?.expectRegex !== undefined) phases.push('first_byte');
  phases.push('total');
  return phases;
}
