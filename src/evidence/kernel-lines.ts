/**
 * Kernel evidence in words, for the incident's evidence and remediation: which interfaces are strict, how many
 * reverse-path drops the kernel counted during the incident, whether the counter still rises, and the exact sysctl
 * lines for that node's interfaces. Pure.
 */
import type { KernelNodeEvidence } from './types.js';

/** The prefix of every evidence line written from kernel evidence (so a refresh can replace them). */
export const KERNEL_LINE_PREFIX = 'Kernel of ';

/** Marks a remediation line written from kernel evidence (so a refresh can replace it). */
export const KERNEL_FIX_MARKER = '(its kernel reports strict rp_filter on';

/** A suspected node's own kernel confirms the path drop: strict rp_filter somewhere and drops counted during the incident. */
export function kernelConfirms(e: KernelNodeEvidence | undefined): boolean {
  return !!e && e.agent === 'ok' && e.strictInterfaces.length > 0 && (e.reversePathDropsSinceOpen ?? 0) > 0;
}

const MODE: Record<number, string> = { 0: 'off', 1: 'strict', 2: 'loose' };

function mode(v: number): string {
  return `${v} (${MODE[v] ?? 'unknown'})`;
}

function time(iso: string | undefined): string {
  return iso ? iso.replace(/^.*T(\d\d:\d\d:\d\d).*$/, '$1Z') : 'never';
}

export function kernelEvidenceLines(kernel: Readonly<Record<string, KernelNodeEvidence>>): string[] {
  const out: string[] = [];
  for (const [node, e] of Object.entries(kernel)) {
    const head = `${KERNEL_LINE_PREFIX}${node}`;
    if (e.agent !== 'ok' && !e.readAt) {
      out.push(`${head}: no evidence: its node agent could not be read (${e.error ?? 'unknown error'}); the verdict stands on the probe's attempts alone.`);
      continue;
    }
    const ifaces = Object.entries(e.interfaces);
    const rp = ifaces.length
      ? ifaces.map(([n, i]) => `${n} ${mode(i.rpFilter.effective)} (all=${i.rpFilter.all}, ${n}=${i.rpFilter.interface})`).join(', ')
      : 'no interface with an IPv4 address reported';
    const drops = e.reversePathDropsSinceOpen === null
      ? e.reversePathDrops === null ? 'the kernel has no reverse-path drop counter' : `${e.reversePathDrops} reverse-path drops since boot (not read twice yet)`
      : `${e.reversePathDropsSinceOpen} reverse-path drops (TcpExt IPReversePathFilter) since the incident opened, last rise seen ${time(e.lastRiseAt)}`;
    const stale = e.agent !== 'ok' ? ` (last read ${time(e.readAt)}; the agent does not answer now: ${e.error ?? 'unknown error'})` : ` (read ${time(e.readAt)})`;
    let verdict = '';
    if (e.strictInterfaces.length && (e.reversePathDropsSinceOpen ?? 0) > 0) verdict = ` Strict reverse-path filtering on ${e.strictInterfaces.join(', ')} is dropping packets: this confirms the diagnosis.`;
    else if (!e.strictInterfaces.length && e.reversePathDropsSinceOpen === 0) verdict = ' No strict interface and no reverse-path drop during the incident: rp_filter on this node is not (or no longer) dropping.';
    else if (!e.strictInterfaces.length && e.lastRiseAt && e.readAt && e.lastRiseAt < e.readAt) verdict = ` No interface is in strict mode now, and the counter has not risen since ${time(e.lastRiseAt)}: the drops stopped.`;
    else if (!e.strictInterfaces.length) verdict = ' No interface is in strict mode now.';
    out.push(`${head}${stale}: rp_filter effective ${rp}; ${drops}.${verdict}`);
  }
  return out;
}

/** The sysctl key of an interface (a dot in its name, e.g. a VLAN eth0.100, is written as a slash). */
function key(iface: string): string {
  return `net.ipv4.conf.${iface.replaceAll('.', '/')}.rp_filter`;
}

/** The exact commands for each node whose kernel shows strict interfaces: loose mode on exactly those, persisted. */
export function kernelRemediation(kernel: Readonly<Record<string, KernelNodeEvidence>>): string[] {
  const out: string[] = [];
  for (const [node, e] of Object.entries(kernel)) {
    if (!e.strictInterfaces.length) continue;
    const keys = e.strictInterfaces.map(key);
    // New interfaces (pod veths, VLANs) start from `default`: if it is strict they would be too.
    const anyDefaultStrict = Object.values(e.interfaces).some((i) => i.rpFilter.default === 1);
    if (anyDefaultStrict) keys.push('net.ipv4.conf.default.rp_filter');
    out.push(`On ${node} ${KERNEL_FIX_MARKER} ${e.strictInterfaces.join(', ')}): \`sysctl -w ${keys.map((k) => `${k}=2`).join(' ')}\`, and persist it in /etc/sysctl.d/90-vipwatch-rp-filter.conf: ${keys.map((k) => `\`${k} = 2\``).join(', ')} (effective = max(all, interface): 2 on the interface is loose whatever all is, as long as all is not above 2).`);
  }
  return out;
}
