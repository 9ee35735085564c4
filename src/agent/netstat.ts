/**
 * ROOT/proc/net/netstat: per group a header line and a value line (`TcpExt: A B …` / `TcpExt: 1 2 …`). /proc/net is
 * /proc/self/net, so it shows the counters of the reading process's network namespace.
 */
import { join } from 'node:path';
import { malformed, readProcText } from './proc-file.js';
import type { NetstatCounters } from './types.js';

/** The reverse-path check's drops (counted under TcpExt for every protocol, despite the group's name). */
export const REVERSE_PATH_COUNTER = 'IPReversePathFilter';

/**
 * The counters the agent reports: drops that make connections to a VIP fail or stall on this node. node_exporter's
 * default netstat filter leaves IPReversePathFilter out; the rest say whether a drop was something else.
 */
export const NETSTAT_COUNTERS: { readonly [G in keyof NetstatCounters]: readonly string[] } = {
  TcpExt: [
    REVERSE_PATH_COUNTER,
    'ListenOverflows', // accept queue full
    'ListenDrops', // SYNs dropped by a listener for any reason (includes the overflows)
    'TCPBacklogDrop', // socket backlog full
    'TCPReqQFullDrop', // SYN queue full, no syncookies
    'TCPMinTTLDrop',
    'TCPDeferAcceptDrop',
    'PFMemallocDrop',
    'TCPRcvQDrop',
    'TCPZeroWindowDrop',
    'TCPOFODrop',
  ],
  IpExt: ['InNoRoutes', 'InTruncatedPkts', 'InCsumErrors'],
};

export type NetstatGroups = Record<string, Record<string, number>>;

/** Every group of the file; throws AGENT_PROC_MALFORMED naming the line when a pair of lines does not match up. */
export function parseNetstat(text: string, file = 'netstat'): NetstatGroups {
  const lines = text.split('\n').map((l, i) => ({ n: i + 1, words: l.trim().split(/\s+/) })).filter((l) => l.words[0] !== '');
  const bad = (n: number, why: string) => malformed(file, `line ${n}: ${why}`);
  if (lines.length === 0) throw bad(1, 'empty');
  const out: NetstatGroups = {};
  for (let i = 0; i < lines.length; i += 2) {
    const head = lines[i]!;
    const vals = lines[i + 1];
    const group = head.words[0]!;
    if (!/^[A-Za-z]+:$/.test(group)) throw bad(head.n, `expected a group header like "TcpExt:", got ${JSON.stringify(group.slice(0, 40))}`);
    if (!vals) throw bad(head.n, `${group} has a header line and no value line`);
    if (vals.words[0] !== group) throw bad(vals.n, `expected the values of ${group}, got ${JSON.stringify(vals.words[0]!.slice(0, 40))}`);
    if (vals.words.length !== head.words.length) throw bad(vals.n, `${group} names ${head.words.length - 1} counters and has ${vals.words.length - 1} values`);
    const counters: Record<string, number> = {};
    for (let k = 1; k < head.words.length; k++) {
      const v = vals.words[k]!;
      if (!/^\d+$/.test(v)) throw bad(vals.n, `${group} ${head.words[k]} is ${JSON.stringify(v.slice(0, 40))}, not a count`);
      counters[head.words[k]!] = Number(v);
    }
    out[group.slice(0, -1)] = counters;
  }
  return out;
}

/** The reported counters: only those the kernel has (a missing counter is absent, never 0). */
export function selectCounters(groups: NetstatGroups): NetstatCounters {
  const out: NetstatCounters = { TcpExt: {}, IpExt: {} };
  for (const group of Object.keys(NETSTAT_COUNTERS) as (keyof NetstatCounters)[]) {
    const have = groups[group];
    if (!have) continue;
    for (const name of NETSTAT_COUNTERS[group]) if (Object.hasOwn(have, name)) out[group][name] = have[name]!;
  }
  return out;
}

export async function readNetstat(root: string): Promise<NetstatCounters> {
  const file = join(root, 'proc/net/netstat');
  return selectCounters(parseNetstat(readProcText(file), file));
}
