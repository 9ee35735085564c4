import { NODES, type NodeName } from './addresses.js';

/** Every lab namespace is `<prefix>-<role>`; the prefix is `vw` + up to 4 digits (pid % 10000 by default). */
export const PREFIX_PATTERN = /^vw\d{1,4}$/;
export const LAB_NETNS_PATTERN = /^(vw\d{1,4})-(bridge|client|check|node-[1-3])$/;

export interface LabNames {
  readonly prefix: string;
  /** Holds the two bridges (LAN and cluster network), so nothing of the lab lives in the host namespace. */
  readonly bridge: string;
  /** Where vipwatch runs: outside the cluster, on the nodes' L2 segment. */
  readonly client: string;
  readonly nodes: Readonly<Record<NodeName, string>>;
  /** A throwaway namespace used only to check which iptables backend works. */
  readonly check: string;
}

export function defaultPrefix(pid = process.pid): string {
  return `vw${pid % 10_000}`;
}

export function labNames(prefix: string): LabNames {
  if (!PREFIX_PATTERN.test(prefix)) throw new Error(`lab prefix must match ${PREFIX_PATTERN}, got ${JSON.stringify(prefix)}`);
  const nodes = Object.fromEntries(NODES.map((n) => [n, `${prefix}-${n}`])) as Record<NodeName, string>;
  return { prefix, bridge: `${prefix}-bridge`, client: `${prefix}-client`, nodes, check: `${prefix}-check` };
}

/** All namespaces of a lab, in the order they are created. */
export function allNamespaces(n: LabNames): string[] {
  return [n.bridge, n.client, ...NODES.map((x) => n.nodes[x])];
}
