/**
 * Kernel evidence on an asymmetric-routing incident: what each suspected node's own kernel says (read by the node
 * evidence agents) goes into the record (`kernel`), its evidence and its remediation; a node whose kernel counts
 * reverse-path drops in strict mode during the incident confirms the verdict and raises the confidence.
 */
import { KERNEL_FIX_MARKER, KERNEL_LINE_PREFIX, kernelConfirms, kernelEvidenceLines, kernelRemediation } from '../evidence/kernel-lines.js';
import type { KernelEvidenceSource } from '../evidence/types.js';
import type { Incident } from './types.js';

/**
 * The kernel's count of drops in strict mode is independent of the probe's statistics: with it, the chance that the
 * failures have another cause is taken to be this many times smaller (confidence 0.9999 becomes 0.999999).
 */
export const KERNEL_CONFIRMATION_FACTOR = 100;

/** Refreshes the kernel evidence of `inc` (an asymmetric_routing incident naming nodes); `raise` on the numbers just applied. */
export function attachKernel(inc: Incident, source: KernelEvidenceSource | undefined, opts: { raise: boolean }): void {
  if (!source || inc.kind !== 'asymmetric_routing' || !inc.suspectedNodes.length) {
    delete inc.kernel;
    return;
  }
  const since = Date.parse(inc.reopenedAt ?? inc.startedAt);
  const kernel = source.evidence(inc.suspectedNodes, since);
  inc.kernel = kernel;
  inc.evidence = [...inc.evidence.filter((l) => !l.startsWith(KERNEL_LINE_PREFIX)), ...kernelEvidenceLines(kernel)];
  const fix = kernelRemediation(kernel);
  inc.remediation = [...fix, ...inc.remediation.filter((l) => !l.includes(KERNEL_FIX_MARKER))];
  if (opts.raise && inc.suspectedNodes.some((n) => kernelConfirms(kernel[n]))) {
    inc.confidence = Math.round((1 - (1 - inc.confidence) / KERNEL_CONFIRMATION_FACTOR) * 1e6) / 1e6;
  }
}
