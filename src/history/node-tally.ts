/** Successes and failures per node over the attempts a history holds, kept up to date as attempts come and go. */

export interface NodeCounts {
  endpoints: number;
  successes: number;
  failures: number;
}

export class NodeTally {
  // Made when first counted: a target whose attempts name no node (tcp, no cluster) never needs them.
  private successes: Map<string, number> | undefined;
  private failures: Map<string, number> | undefined;

  addSuccess(node: string, delta = 1): void {
    bump((this.successes ??= new Map()), node, delta);
  }

  addFailure(node: string, delta = 1): void {
    bump((this.failures ??= new Map()), node, delta);
  }

  /**
   * Per node: ready endpoints from `endpointsPerNode`, successes by the node that served them, failures by the node
   * (or 'ambiguous' / 'unknown') they are attributed to. Every node with endpoints appears, at 0 when nothing counted.
   */
  counts(endpointsPerNode: Readonly<Record<string, number>> | undefined): Record<string, NodeCounts> {
    const out: Record<string, NodeCounts> = {};
    const get = (n: string) => (out[n] ??= { endpoints: endpointsPerNode?.[n] ?? 0, successes: 0, failures: 0 });
    for (const n of Object.keys(endpointsPerNode ?? {})) get(n);
    for (const [n, v] of this.successes ?? []) get(n).successes = v;
    for (const [n, v] of this.failures ?? []) get(n).failures = v;
    return out;
  }
}

function bump(m: Map<string, number>, key: string, delta: number): void {
  const v = (m.get(key) ?? 0) + delta;
  if (v > 0) m.set(key, v);
  else m.delete(key);
}
