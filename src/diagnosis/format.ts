/** Number formatting for summaries and evidence lines. */

export function pct(x: number): string {
  if (x > 0 && x < 0.01) return `${(x * 100).toFixed(1)}%`;
  return `${Math.round(x * 100)}%`;
}

export function prob(p: number): string {
  if (p === 0) return '0';
  if (p >= 0.01) return p.toFixed(2);
  return p.toExponential(1);
}

export function ratio(x: number): string {
  return x.toFixed(2);
}

export function reasonsText(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([r, n]) => `${r} x${n}`)
    .join(', ');
}

export function list(nodes: readonly string[]): string {
  return nodes.length ? nodes.join(', ') : '(none)';
}

export function topReason(reasons: Record<string, number>): string | undefined {
  let best: string | undefined;
  let n = -1;
  for (const [r, c] of Object.entries(reasons)) if (c > n || (c === n && r < best!)) [best, n] = [r, c];
  return best;
}
