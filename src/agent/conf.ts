/**
 * net.ipv4.conf per interface, read from ROOT/proc/sys/net/ipv4/conf/. /proc/sys/net shows the network namespace of
 * the process that opens it, so an agent in the host's namespace (hostNetwork) reads the node's values.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { listProcDir, parseSysctlInt, procError, readProcText, type ProcFileError } from './proc-file.js';
import type { ConfScopes } from './types.js';

/** The conf keys the agent reads, by their JSON name. */
export const CONF_KEYS = { rpFilter: 'rp_filter', logMartians: 'log_martians' } as const;
export type ConfKey = keyof typeof CONF_KEYS;

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
  const names = await listProcDir(dir);
  const all = await readKeys(join(dir, 'all'));
  const dflt = await readKeys(join(dir, 'default'));
  const interfaces: Record<string, InterfaceConf> = {};
  const errors: ProcFileError[] = [];
  const ifaces = names.filter((n) => !NOT_INTERFACES.has(n)).sort();
  const read = await Promise.all(ifaces.map((name) => readKeys(join(dir, name)).then((v) => v, (err: unknown) => err)));
  for (let i = 0; i < ifaces.length; i++) {
    const v = read[i];
    if (v instanceof Error) {
      if (await gone(join(dir, ifaces[i]!))) continue;
      errors.push(procError(join(dir, ifaces[i]!), v));
      continue;
    }
    const own = v as Record<ConfKey, number>;
    interfaces[ifaces[i]!] = {
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

async function readKeys(dir: string): Promise<Record<ConfKey, number>> {
  const out = {} as Record<ConfKey, number>;
  for (const [key, file] of Object.entries(CONF_KEYS) as [ConfKey, string][]) {
    const path = join(dir, file);
    out[key] = parseSysctlInt(await readProcText(path), path);
  }
  return out;
}

/** True when the interface's directory no longer exists: it was removed between the listing and the read. */
async function gone(dir: string): Promise<boolean> {
  try {
    await access(dir);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

