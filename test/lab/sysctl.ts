import { inNetns } from './exec.js';

const KEY = /^[a-z0-9_.-]+$/i;

/**
 * argv that writes sysctls inside a namespace. /proc/sys/net belongs to the namespace of the process that opens it, so the
 * writes must run in there; a plain shell does it without depending on procps' `sysctl` being installed.
 */
export function sysctlArgv(ns: string, entries: ReadonlyArray<readonly [key: string, value: number]>): string[] {
  const lines = entries.map(([key, value]) => {
    // Keys and values come from the lab's own constants; checked anyway so nothing can reach the shell unquoted.
    if (!KEY.test(key) || !Number.isInteger(value)) throw new Error(`bad sysctl ${key}=${value}`);
    return `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`;
  });
  return inNetns(ns, ['sh', '-ec', lines.join('\n')]);
}
