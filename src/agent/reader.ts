/** One read of a node's kernel evidence: the conf sysctls, the netstat counters and the interfaces' addresses and MACs. */
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { normalMac } from '../lib/mac.js';
import { packageVersion } from '../lib/version.js';
import { readConf, type InterfaceConf } from './conf.js';
import { readNetstat, REVERSE_PATH_COUNTER } from './netstat.js';
import { procError } from './proc-file.js';
import type { AgentReadError, InterfaceEvidence, NetstatCounters, NodeReport } from './types.js';

export type NetworkInterfaces = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

export interface NodeReaderOptions {
  /** The node's name as reported. */
  node: string;
  /** Where proc/ is found: '/' on a node; a fixture tree in tests. */
  root?: string;
  /** The addresses and MACs of the agent's network namespace (os.networkInterfaces by default). */
  networkInterfaces?: NetworkInterfaces;
  /** Epoch ms, for readAt. */
  now?: () => number;
  agentVersion?: string;
}

export class NodeReader {
  private readonly root: string;
  private readonly addressesOf: NetworkInterfaces;
  private readonly now: () => number;
  private readonly version: string;

  constructor(private readonly o: NodeReaderOptions) {
    this.root = o.root ?? '/';
    this.addressesOf = o.networkInterfaces ?? osNetworkInterfaces;
    this.now = o.now ?? Date.now;
    this.version = o.agentVersion ?? packageVersion();
  }

  /** Never throws for a file it cannot use: that goes into `errors` and the rest is reported. */
  async read(): Promise<NodeReport> {
    const readAt = new Date(this.now()).toISOString();
    const errors: AgentReadError[] = [];
    const [conf, counters] = await Promise.all([
      readConf(this.root).catch((err: unknown) => {
        errors.push(asReadError(err, this.root));
        return { interfaces: {}, errors: [] };
      }),
      readNetstat(this.root).catch((err: unknown): NetstatCounters => {
        errors.push(asReadError(err, this.root));
        return { TcpExt: {}, IpExt: {} };
      }),
    ]);
    for (const e of conf.errors) errors.push(asReadError(e, this.root));
    const drops = counters.TcpExt[REVERSE_PATH_COUNTER];
    return {
      node: this.o.node,
      readAt,
      interfaces: this.withAddresses(conf.interfaces),
      reversePathDrops: drops ?? null,
      counters,
      agentVersion: this.version,
      errors,
    };
  }

  private withAddresses(conf: Record<string, InterfaceConf>): Record<string, InterfaceEvidence> {
    let nics: NodeJS.Dict<NetworkInterfaceInfo[]> = {};
    try {
      nics = this.addressesOf();
    } catch {
      // uv_interface_addresses failing leaves the addresses empty; the sysctls are still worth reporting.
    }
    const out: Record<string, InterfaceEvidence> = {};
    for (const [name, c] of Object.entries(conf)) {
      const entries = nics[name] ?? [];
      const e: InterfaceEvidence = { ...c, addresses: entries.map((a) => a.cidr ?? a.address) };
      const mac = macOf(entries);
      if (mac) e.mac = mac;
      out[name] = e;
    }
    return out;
  }
}

/** The interface's link-layer address, lower-case; undefined for none (lo's all-zero MAC, a tunnel without one). */
export function macOf(entries: readonly NetworkInterfaceInfo[]): string | undefined {
  for (const a of entries) {
    const mac = normalMac(a.mac);
    if (mac) return mac;
  }
  return undefined;
}

function asReadError(err: unknown, root: string): AgentReadError {
  const e = procError(root, err);
  return { source: e.path, code: e.code, message: e.message };
}
