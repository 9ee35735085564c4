import { IFACE, LAB } from './addresses.js';
import { sysctlArgv } from './sysctl.js';

/** The rp_filter values: 0 off, 1 strict, 2 loose. */
export type RpFilterMode = 0 | 1 | 2;

/**
 * Sets rp_filter on a node. The kernel applies max(all, iface), so `all` and every interface get the value (and `default`,
 * as the troubleshooting guide's fix does); setting only one of them could leave a stricter value in force.
 */
export function rpFilterArgv(nodeNs: string, mode: RpFilterMode): string[] {
  return sysctlArgv(nodeNs, [
    ['net.ipv4.conf.all.rp_filter', mode],
    ['net.ipv4.conf.default.rp_filter', mode],
    [`net.ipv4.conf.${IFACE.lan}.rp_filter`, mode],
    [`net.ipv4.conf.${IFACE.cluster}.rp_filter`, mode],
  ]);
}

/** Random SYN loss at the announcer, before routing (raw table), so it hits every flow whichever node serves it. */
export function synLossRule(op: '-I' | '-D' | '-C', percent: number): string[] {
  const p = (percent / 100).toFixed(4);
  return ['-t', 'raw', op, 'PREROUTING', '-i', IFACE.lan, '-d', `${LAB.vip}/32`, '-p', 'tcp', '--dport', String(LAB.vipPort), '--syn',
    '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP'];
}

/**
 * Outage: the announcer drops every packet to the VIP. Together with removing the VIP from its LAN interface (no more ARP
 * answers) this makes the VIP unreachable whether or not the client still has the old neighbour entry cached.
 */
export function outageRule(op: '-I' | '-D' | '-C'): string[] {
  return ['-t', 'raw', op, 'PREROUTING', '-d', `${LAB.vip}/32`, '-j', 'DROP'];
}

/** A refusing backend: every SYN to the VIP on that node is answered with a TCP reset (ECONNREFUSED at the client). */
export function refuseRule(op: '-I' | '-D' | '-C'): string[] {
  return ['-t', 'filter', op, 'INPUT', '-d', `${LAB.vip}/32`, '-p', 'tcp', '--dport', String(LAB.vipPort), '-j', 'REJECT', '--reject-with', 'tcp-reset'];
}
