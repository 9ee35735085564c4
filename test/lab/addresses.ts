/**
 * The lab's fixed addresses. All come from 198.18.0.0/15 (RFC 2544 benchmark range), which no real network hands out,
 * and they live only inside the lab's own network namespaces, so parallel runs may reuse them without colliding.
 */
export const NODES = ['node-1', 'node-2', 'node-3'] as const;
export type NodeName = (typeof NODES)[number];

/** Interface names inside every node namespace (<= 15 chars; names are per namespace, so they never clash with the host). */
export const IFACE = { lan: 'eth0', cluster: 'eth1' } as const;

export interface LabNode {
  readonly name: NodeName;
  /** 1-based; also the HMARK mark that sends a flow to this node. */
  readonly index: 1 | 2 | 3;
  /** The node's InternalIP on the client's L2 segment. */
  readonly lanIp: string;
  /** The node's address on the network that links the nodes. */
  readonly clusterIp: string;
  /** Fixed, locally administered MAC of the LAN interface: lets a test compare the VIP's neighbour entry with the announcer. */
  readonly lanMac: string;
  /** The backend "pod" on this node (host-network style: it listens on the node itself, so its IP is the cluster IP). */
  readonly pod: string;
}

function node(index: 1 | 2 | 3): LabNode {
  return {
    name: `node-${index}`,
    index,
    lanIp: `198.18.0.${10 + index}`,
    clusterIp: `198.19.0.${10 + index}`,
    lanMac: `02:76:77:00:00:0${index}`,
    pod: `web-${index}`,
  };
}

export const LAB = {
  lanCidr: '198.18.0.0/24',
  clusterCidr: '198.19.0.0/24',
  prefixLen: 24,
  clientIp: '198.18.0.10',
  clientMac: '02:76:77:00:00:10',
  vip: '198.18.0.100',
  vipPort: 80,
  /** The MetalLB-like speaker that holds the VIP on its LAN interface and answers ARP for it. */
  announcer: 'node-1' as NodeName,
  nodes: { 'node-1': node(1), 'node-2': node(2), 'node-3': node(3) } as Readonly<Record<NodeName, LabNode>>,
} as const;

export function isNodeName(s: string): s is NodeName {
  return (NODES as readonly string[]).includes(s);
}
