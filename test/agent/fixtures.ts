/** The fixture /proc trees of test/fixtures/agent-proc and the addresses their interfaces are given. */
import type { NetworkInterfaceInfo } from 'node:os';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/agent-proc/', import.meta.url));

/** A fixture tree's root, for NodeReader's `root` and --proc-root. */
export function fixtureRoot(name: 'strict-eth1' | 'all-strict' | 'old-kernel' | 'malformed'): string {
  return `${FIXTURES}${name}`;
}

const v4 = (address: string, prefix: number, mac: string): NetworkInterfaceInfo => ({
  address, netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: `${address}/${prefix}`,
});

/** The fixture node's interface MACs (eth1's upper-case, as some drivers would never print it: reported lower-case). */
export const FIXTURE_MACS = { eth0: '02:00:00:00:00:01', eth1: '02:00:00:00:00:02', docker0: '02:42:ac:11:00:01' } as const;

/**
 * What os.networkInterfaces() would say on the node of the strict-eth1 fixture (flannel.1 has no address). `macs`
 * replaces eth0's and eth1's MACs (two agents standing for two nodes).
 */
export function fixtureInterfaces(macs: { eth0?: string; eth1?: string } = {}): NodeJS.Dict<NetworkInterfaceInfo[]> {
  const eth0 = macs.eth0 ?? FIXTURE_MACS.eth0;
  const eth1 = macs.eth1 ?? FIXTURE_MACS.eth1.toUpperCase();
  return {
    lo: [{ ...v4('127.0.0.1', 8, '00:00:00:00:00:00'), internal: true }],
    eth0: [v4('198.18.0.12', 24, eth0), { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: eth0, internal: false, cidr: 'fe80::1/64', scopeid: 2 }],
    eth1: [v4('198.19.0.12', 24, eth1)],
    // Present in the namespace but with no conf entry: not reported (the agent reports what conf/ lists).
    docker0: [v4('172.17.0.1', 16, FIXTURE_MACS.docker0)],
  };
}

/** A fixed clock for readAt. */
export const FIXED_NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
