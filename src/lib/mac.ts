/** MAC addresses as vipwatch compares them: the neighbour table, the node agents' interfaces, the directory of both. */

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const ZERO = '00:00:00:00:00:00';

/** A link-layer address in lower case; undefined for anything else and for the all-zero MAC (lo, an incomplete entry). */
export function normalMac(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const mac = s.toLowerCase();
  return MAC.test(mac) && mac !== ZERO ? mac : undefined;
}
