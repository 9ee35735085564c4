/**
 * net.ipv4.conf per interface, read from ROOT/proc/sys/net/ipv4/conf/. /proc/sys/net shows the network namespace of
 * the process that opens it, so an agent in the host's namespace (hostNetwork) reads the node's values.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { listProcDir, parseSysctlInt, procError, readProcText, type ProcFileError } from './proc-file.js';
import type { ConfScopes } from './types.js';

/** The conf keys the agent reads, by their JSON name. */
export const CONF_KEYS = { rpFilter: 'rp_filter', logMartians: 'log_martians' } as const;
export type ConfKey = keyof typeof CONF_KEYS;

/** Interfaces read between two turns of the event loop. */
const YIELD_EVERY = 128;
/** The directories under conf/ that are not interfaces. */
const NOT_INTERFACES = new Set(['all', 'default']);

export type InterfaceConf = Record<ConfKey, ConfScopes>;

export interface ConfRead {
  interfaces: Record<string, InterfaceConf>;
  /** Interfaces that could not be read (each left out of `interfaces`). */
  errors: ProcFileError[];
}

/**
 * Reads every interface's rp_filter and log_martians with the all/default values beside them. Throws when conf/, all
 * or default cannot be read (nothing can be said then); an interface that cannot be read is an error of its own, and
 * one removed while reading (a pod's veth going away) is simply not there.
 */
export async function readConf(root: string): Promise<ConfRead> {
  const dir = join(root, 'proc/sys/net/ipv4/conf');
  const names = listProcDir(dir);
  const all = readKeys(join(dir, 'all'));
  const dflt = readKeys(join(dir, 'default'));
  const interfaces: Record<string, InterfaceConf> = {};
  const errors: ProcFileError[] = [];
  const ifaces = names.filter((n) => !NOT_INTERFACES.has(n)).sort();
  for (let i = 0; i < ifaces.length; i++) {
    // A node with thousands of pod interfaces: the server answers /-/healthy between slices of the read.
    if (i > 0 && i % YIELD_EVERY === 0) await yieldToLoop();
    const name = ifaces[i]!;
    let own: Record<ConfKey, number>;
    try {
      own = readKeys(join(dir, name));
    } catch (err) {
      if (!gone(join(dir, name))) errors.push(procError(join(dir, name), err));
      continue;
    }
    interfaces[name] = {
      rpFilter: scopes(all.rpFilter, dflt.rpFilter, own.rpFilter),
      logMartians: scopes(all.logMartians, dflt.logMartians, own.logMartians),
    };
  }
  return { interfaces, errors };
}

/** The kernel uses the larger of conf/all and conf/IFACE (ip-sysctl.rst, for rp_filter; log_martians is the same OR). */
export function scopes(all: number, dflt: number, own: number): ConfScopes {
  return { all, default: dflt, interface: own, effective: Math.max(all, own) };
}

function readKeys(dir: string): Record<ConfKey, number> {
  const out = {} as Record<ConfKey, number>;
  for (const [key, file] of Object.entries(CONF_KEYS) as [ConfKey, string][]) {
    const path = join(dir, file);
    out[key] = parseSysctlInt(readProcText(path), path);
  }
  return out;
}

/** True when the interface's directory no longer exists: it was removed between the listing and the read. */
function gone(dir: string): boolean {
  return !existsSync(dir);
}
