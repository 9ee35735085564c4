import type { LookupAddress, Resolver } from 'node:dns';
import type { LookupFunction } from 'node:net';

/**
 * net's `lookup` backed by a dns.Resolver (A, then AAAA), so resolution can be pointed at chosen DNS servers
 * instead of the system's. Errors keep the resolver's codes (ENOTFOUND for NXDOMAIN, ETIMEOUT, ...).
 */
export function resolverLookup(resolver: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    const family = typeof options === 'number' ? options : options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    const all = typeof options === 'object' && options.all === true;
    const order: (4 | 6)[] = family === 6 ? [6] : family === 4 ? [4] : [4, 6];
    const next = (i: number, firstErr: NodeJS.ErrnoException | null): void => {
      const fam = order[i];
      if (fam === undefined) return callback(firstErr ?? Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      const done = (err: NodeJS.ErrnoException | null, addrs: string[]) => {
        if (err || addrs.length === 0) return next(i + 1, firstErr ?? err);
        if (all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addrs.map((address) => ({ address, family: fam })));
        callback(null, addrs[0]!, fam);
      };
      if (fam === 4) resolver.resolve4(hostname, done);
      else resolver.resolve6(hostname, done);
    };
    next(0, null);
  };
}
