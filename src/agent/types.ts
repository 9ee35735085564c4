/**
 * What the node evidence agent reports (GET /v1/node). A public JSON contract: the probe side reads it to confirm a
 * diagnosis with the node's own kernel, so fields are only ever added.
 */
import type { ErrorCode } from '../lib/error-codes.js';

/** One sysctl of net.ipv4.conf as the kernel applies it to an interface. */
export interface ConfScopes {
  /** net.ipv4.conf.all.X */
  all: number;
  /** net.ipv4.conf.default.X (what an interface created from now on starts with; not part of the effective value). */
  default: number;
  /** net.ipv4.conf.IFACE.X */
  interface: number;
  /** What the kernel uses: max(all, interface). */
  effective: number;
}

export interface InterfaceEvidence {
  /** 0 off, 1 strict (drop when the route back to the source is another interface), 2 loose. */
  rpFilter: ConfScopes;
  /** 1: the kernel logs martian packets (reverse-path failures among them) arriving on this interface. */
  logMartians: ConfScopes;
  /** The interface's addresses in CIDR form (IPv4 and IPv6), as the agent's network namespace sees them. */
  addresses: string[];
  /**
   * The interface's MAC, lower-case (e.g. "02:42:ac:11:00:02"): what a neighbour entry for one of this node's
   * addresses points at, so vipwatch can name the node behind a MAC. Absent when the interface has none (lo's all-zero
   * MAC, a layer-3 tunnel) or no address (os.networkInterfaces lists only interfaces with an address).
   */
  mac?: string;
}

/** The netstat groups the agent reports, and in each only the counters it knows (a missing counter is absent). */
export interface NetstatCounters {
  TcpExt: Record<string, number>;
  IpExt: Record<string, number>;
}

/** A file the agent could not use in this read; the rest of the report is still what the kernel said. */
export interface AgentReadError {
  /** The file or directory (under the agent's --proc-root). */
  source: string;
  code: ErrorCode;
  message: string;
}

export interface NodeReport {
  /** The node's name: $NODE_NAME (the downward API's spec.nodeName), else the host name. */
  node: string;
  /** When the kernel's files were read (ISO 8601). */
  readAt: string;
  /** Every interface listed under /proc/sys/net/ipv4/conf/ (all and default are not interfaces). */
  interfaces: Record<string, InterfaceEvidence>;
  /** TcpExt IPReversePathFilter: packets dropped by the reverse-path check since boot; null when the kernel has no such counter. */
  reversePathDrops: number | null;
  counters: NetstatCounters;
  agentVersion: string;
  /** What could not be read this time (empty when everything was). */
  errors: AgentReadError[];
}
