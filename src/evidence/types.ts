/** Kernel evidence of a node as the incident record carries it: a public contract (fields are only ever added). */

/** rp_filter of one interface as the node's kernel applies it (from the node evidence agent). */
export interface KernelInterface {
  rpFilter: { all: number; default: number; interface: number; effective: number };
}

/** What a node's own kernel says, read by vipwatch from the node evidence agent on that node. */
export interface KernelNodeEvidence {
  /** ok: read at readAt; unreachable: the agent could not be asked (error says why); the other fields are then absent or last known. */
  agent: 'ok' | 'unreachable';
  /** When the agent read the kernel (ISO 8601) for the values below. */
  readAt?: string;
  /** Interfaces with an IPv4 address (the ones that can take forwarded SYNs), with their rp_filter. */
  interfaces: Record<string, KernelInterface>;
  /** Interfaces whose effective rp_filter is 1 (strict). */
  strictInterfaces: string[];
  /** TcpExt IPReversePathFilter since boot; null when the kernel has no such counter or it was never read. */
  reversePathDrops: number | null;
  /** Its rise since the incident opened (from the last read before it, else the first after); null until two reads exist. */
  reversePathDropsSinceOpen: number | null;
  /** When the counter was last seen to rise (ISO 8601); absent when it never rose while vipwatch watched. */
  lastRiseAt?: string;
  /** Why the agent could not be asked, with its stable code. */
  error?: string;
}

/** Where incidents get kernel evidence from (the agents' poller, or nothing). */
export interface KernelEvidenceSource {
  /** The nodes a target needs evidence about now (empty: none). */
  want(owner: string, nodes: readonly string[]): void;
  /** What each node's kernel says, the drop counter's rise counted from `since` (epoch ms). */
  evidence(nodes: readonly string[], since: number): Record<string, KernelNodeEvidence>;
}
