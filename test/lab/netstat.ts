/**
 * Parses /proc/net/netstat (pairs of header/value lines per group, e.g. `TcpExt: A B` / `TcpExt: 1 2`) into
 * `{ TcpExt: { A: 1, B: 2 }, IpExt: {...} }`. The file is per network namespace.
 */
export function parseNetstat(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const head = lines[i]!.trim().split(/\s+/);
    const vals = lines[i + 1]!.trim().split(/\s+/);
    const group = head[0]?.replace(/:$/, '');
    if (!group || vals[0] !== head[0] || head.length !== vals.length) continue;
    const g: Record<string, number> = {};
    for (let k = 1; k < head.length; k++) g[head[k]!] = Number(vals[k]);
    out[group] = g;
  }
  return out;
}
