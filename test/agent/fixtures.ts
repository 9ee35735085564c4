/** The fixture /proc trees of test/fixtures/agent-proc and the addresses their interfaces are given. */
import type { NetworkInterfaceInfo } from 'node:os';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/agent-proc/', import.meta.url));

/** A fixture tree's root, for NodeReader's `root` and --proc-root. */
export function fixtureRoot(name: 'strict-eth1' | 'all-strict' | 'old-kernel' | 'malformed'): string {
  return `${FIXTURES}${name}`;
}

const v4 = (address: string, prefix: number): NetworkInterfaceInfo => ({
  address, netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: `${address}/${prefix}`,
});

/** What os.networkInterfaces() would say on the node of the strict-eth1 fixture (flannel.1 has no address). */
export function fixtureInterfaces(): NodeJS.Dict<NetworkInterfaceInfo[]> {
  return {
    lo: [{ ...v4('127.0.0.1', 8), internal: true }],
    eth0: [v4('198.18.0.12', 24), { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 }],
    eth1: [v4('198.19.0.12', 24)],
    // Present in the namespace but with no conf entry: not reported (the agent reports what conf/ lists).
    docker0: [v4('172.17.0.1', 16)],
  };
}

/** A fixed clock for readAt. */
export const FIXED_NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
