import { IFACE, LAB, NODES, type NodeName } from './addresses.js';
import { inNetns } from './exec.js';
import { iptablesArgv, type IptablesBackend } from './iptables.js';
import type { LabNames } from './names.js';
import { sysctlArgv } from './sysctl.js';

/** Policy-routing table that carries flows of HMARK mark N to node-N (marks 2 and 3; mark 1 is served by the announcer). */
export const ROUTE_TABLE_BASE = 100;
/** Fixed hash seed so a given (src, dst, sport, dport) always lands on the same node, across runs too. */
export const HMARK_RND = '0x76697077';

const ip = (ns: string, ...args: string[]): string[] => ['ip', '-n', ns, ...args];
const lanVeth = (n: NodeName): string => `n${n.slice(-1)}-lan`;
const clusterVeth = (n: NodeName): string => `n${n.slice(-1)}-clu`;

/**
 * Sysctls every namespace gets before its interfaces exist, so `default` seeds them. A new namespace copies `all` and
 * `default` from the host (net.core.devconf_inherit_init_net=0), so nothing is assumed: rp_filter starts at 0 everywhere
 * and each fault sets it explicitly. IPv6 is off to keep the segment free of neighbour-discovery noise.
 */
function baseSysctls(ns: string, forward: 0 | 1): string[] {
  return sysctlArgv(ns, [
    ['net.ipv4.conf.all.rp_filter', 0],
    ['net.ipv4.conf.default.rp_filter', 0],
    ['net.ipv4.ip_forward', forward],
    ['net.ipv6.conf.all.disable_ipv6', 1],
    ['net.ipv6.conf.default.disable_ipv6', 1],
  ]);
}

/** Commands that build the whole network once the namespaces exist, in order. Pure: easy to read and to print. */
export function topologyCommands(names: LabNames, ipt: IptablesBackend): string[][] {
  const br = names.bridge;
  const c = names.client;
  const cmds: string[][] = [];

  cmds.push(baseSysctls(br, 0), baseSysctls(c, 0));
  for (const n of NODES) cmds.push(baseSysctls(names.nodes[n], n === LAB.announcer ? 1 : 0));
  for (const ns of [br, c, ...NODES.map((n) => names.nodes[n])]) cmds.push(ip(ns, 'link', 'set', 'lo', 'up'));

  // Two bridges in their own namespace: the LAN (client + nodes) and the cluster network (nodes only).
  for (const b of ['br-lan', 'br-clu']) {
    cmds.push(ip(br, 'link', 'add', b, 'type', 'bridge', 'stp_state', '0'));
    cmds.push(ip(br, 'link', 'set', b, 'up'));
  }

  // Each veth is created inside the bridge namespace with its peer placed straight into the member namespace,
  // so no interface ever appears in the host namespace.
  const attach = (port: string, bridge: string, ns: string, iface: string) => {
    cmds.push(ip(br, 'link', 'add', port, 'type', 'veth', 'peer', 'name', iface, 'netns', ns));
    cmds.push(ip(br, 'link', 'set', port, 'master', bridge, 'up'));
  };
  attach('c-lan', 'br-lan', c, IFACE.lan);
  for (const n of NODES) {
    attach(lanVeth(n), 'br-lan', names.nodes[n], IFACE.lan);
    attach(clusterVeth(n), 'br-clu', names.nodes[n], IFACE.cluster);
  }

  cmds.push(ip(c, 'link', 'set', IFACE.lan, 'address', LAB.clientMac));
  cmds.push(ip(c, 'addr', 'add', `${LAB.clientIp}/${LAB.prefixLen}`, 'dev', IFACE.lan));
  cmds.push(ip(c, 'link', 'set', IFACE.lan, 'up'));

  for (const n of NODES) {
    const ns = names.nodes[n];
    const node = LAB.nodes[n];
    cmds.push(ip(ns, 'link', 'set', IFACE.lan, 'address', node.lanMac));
    cmds.push(ip(ns, 'addr', 'add', `${node.lanIp}/${LAB.prefixLen}`, 'dev', IFACE.lan));
    cmds.push(ip(ns, 'addr', 'add', `${node.clusterIp}/${LAB.prefixLen}`, 'dev', IFACE.cluster));
    cmds.push(ip(ns, 'link', 'set', IFACE.lan, 'up'));
    cmds.push(ip(ns, 'link', 'set', IFACE.cluster, 'up'));
    if (n === LAB.announcer) cmds.push(...announcerCommands(ns, ipt));
    else cmds.push(...dsrBackendCommands(ns));
  }
  return cmds;
}

/** Holds the VIP on its LAN interface (answers ARP) and spreads new flows over the three nodes. */
function announcerCommands(ns: string, ipt: IptablesBackend): string[][] {
  const cmds: string[][] = [];
  cmds.push(ip(ns, 'addr', 'add', `${LAB.vip}/32`, 'dev', IFACE.lan));
  // No ICMP redirects: the client must keep sending to the announcer.
  cmds.push(sysctlArgv(ns, [['net.ipv4.conf.all.send_redirects', 0], [`net.ipv4.conf.${IFACE.lan}.send_redirects`, 0]]));
  for (const other of NODES) {
    if (other === LAB.announcer) continue;
    const mark = String(LAB.nodes[other].index);
    const table = String(ROUTE_TABLE_BASE + LAB.nodes[other].index);
    cmds.push(ip(ns, 'route', 'add', `${LAB.vip}/32`, 'via', LAB.nodes[other].clusterIp, 'dev', IFACE.cluster, 'table', table));
    cmds.push(ip(ns, 'rule', 'add', 'pref', String(ROUTE_TABLE_BASE + LAB.nodes[other].index), 'fwmark', mark, 'lookup', table));
  }
  // The VIP is local here, so the `local` rule (pref 0) would deliver every flow to this node before the fwmark rules
  // are read: move it below them. Added first, then the old one removed, so local delivery never has a gap.
  cmds.push(ip(ns, 'rule', 'add', 'pref', '200', 'lookup', 'local'));
  cmds.push(ip(ns, 'rule', 'del', 'pref', '0', 'lookup', 'local'));
  // Stateless per-flow choice: HMARK hashes addresses and ports of every packet, so the SYN, its retransmissions and the
  // client's later ACKs all get the same mark. CONNMARK would not do: this node never sees the replies (direct server
  // return), so conntrack would call the client's ACK invalid.
  cmds.push(iptablesArgv(ns, ipt, hmarkRule('-A')));
  return cmds;
}

export function hmarkRule(op: '-A' | '-D' | '-C'): string[] {
  return ['-t', 'mangle', op, 'PREROUTING', '-i', IFACE.lan, '-d', `${LAB.vip}/32`, '-p', 'tcp', '--dport', String(LAB.vipPort),
    '-j', 'HMARK', '--hmark-tuple', 'src,dst,sport,dport', '--hmark-mod', '3', '--hmark-offset', '1', '--hmark-rnd', HMARK_RND];
}

/** Holds the VIP silently on lo and answers the client directly with it as source (direct server return). */
function dsrBackendCommands(ns: string): string[][] {
  return [
    ip(ns, 'addr', 'add', `${LAB.vip}/32`, 'dev', 'lo'),
    // arp_ignore=1: answer ARP only for addresses on the asking interface (the VIP is on lo, so never);
    // arp_announce=2: never put the VIP in our own ARP requests. The kernel uses max(all, iface) for both.
    sysctlArgv(ns, [
      ['net.ipv4.conf.all.arp_ignore', 1],
      ['net.ipv4.conf.all.arp_announce', 2],
      [`net.ipv4.conf.${IFACE.lan}.arp_ignore`, 1],
      [`net.ipv4.conf.${IFACE.lan}.arp_announce`, 2],
    ]),
  ];
}

/** Reads the netstat counters of a namespace. */
export function netstatArgv(ns: string): string[] {
  return inNetns(ns, ['cat', '/proc/net/netstat']);
}
