import { expect, it } from 'vitest';
import { needTools } from '../support/tools.js';
import { Lab, type PreflightResult } from './lab.js';

/**
 * What every lab test file starts with: root, working network namespaces and an iptables backend, checked once.
 * Outside CI a missing precondition skips the file with one line saying why; under CI the precondition test this adds
 * fails with that reason (CI never skips).
 */
export async function labPreconditions(what: string): Promise<{ pre: PreflightResult; labTools: ReturnType<typeof needTools> }> {
  const pre = await Lab.preflight();
  const labTools = needTools(what, { name: 'root with network namespaces and iptables', ...(!pre.ok && { missing: pre.reason }) });
  it.skipIf(labTools.skip)(`${what}: preconditions (root, ip netns, iptables)`, () => {
    labTools.check();
    expect(pre.ok).toBe(true);
  });
  return { pre, labTools };
}
