import { inNetns, run } from './exec.js';

/** Debian ships both; which one works inside a namespace depends on the kernel (nf_tables vs the legacy x_tables). */
export type IptablesBackend = 'nft' | 'legacy';

export function iptablesBinary(b: IptablesBackend): string {
  return b === 'nft' ? 'iptables-nft' : 'iptables-legacy';
}

export function iptablesArgv(ns: string, b: IptablesBackend, args: readonly string[]): string[] {
  // -w: wait for the xtables lock instead of failing when another run touches iptables at the same moment.
  return inNetns(ns, [iptablesBinary(b), '-w', '5', ...args]);
}

/** The matches and targets the lab uses: HMARK (xt_HMARK), statistic (xt_statistic), REJECT with tcp-reset. */
const CHECKS: ReadonlyArray<readonly string[]> = [
  ['-t', 'mangle', '-N', 'VWCHECK'],
  ['-t', 'mangle', '-A', 'VWCHECK', '-p', 'tcp', '-j', 'HMARK', '--hmark-tuple', 'src,dst,sport,dport', '--hmark-mod', '3', '--hmark-offset', '1', '--hmark-rnd', '0x7677'],
  ['-t', 'raw', '-N', 'VWCHECK'],
  ['-t', 'raw', '-A', 'VWCHECK', '-p', 'tcp', '--syn', '-m', 'statistic', '--mode', 'random', '--probability', '0.1', '-j', 'DROP'],
  ['-t', 'filter', '-N', 'VWCHECK'],
  ['-t', 'filter', '-A', 'VWCHECK', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
];

/**
 * Tries each backend inside `ns` (a throwaway namespace: whatever the check leaves there goes with it).
 * Returns the first that accepts every rule the lab needs, or the reasons both failed.
 */
export async function detectIptables(ns: string, order: readonly IptablesBackend[] = ['nft', 'legacy']): Promise<{ backend?: IptablesBackend; problems: string[] }> {
  const problems: string[] = [];
  for (const b of order) {
    let failed = '';
    for (const args of CHECKS) {
      const r = await run(iptablesArgv(ns, b, args), { allowFail: true });
      if (r.code !== 0) {
        failed = `${iptablesBinary(b)} ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`;
        break;
      }
    }
    if (!failed) return { backend: b, problems };
    problems.push(failed);
  }
  return { problems };
}
