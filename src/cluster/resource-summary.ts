import type { ResourceState, ResourceStatus } from './types.js';

/** Worst first: one loop of a resource in this state makes the whole resource so. */
const ORDER: ResourceState[] = ['failing', 'disabled', 'starting', 'synced'];

/**
 * One status per resource from the per-loop statuses (kubernetes.namespaces runs one loop per namespace): synced only
 * when every loop is, else the worst state; lastSyncAt the oldest confirmation (undefined while a loop has none);
 * lastError the first loop's error, prefixed by its namespace. With one loop per resource the list is unchanged
 * but for `namespace`, which is dropped: the metrics keep their one `resource` label.
 */
export function summarizeByResource(statuses: readonly ResourceStatus[]): ResourceStatus[] {
  const groups = new Map<string, ResourceStatus[]>();
  for (const s of statuses) {
    const g = groups.get(s.resource);
    if (g) g.push(s);
    else groups.set(s.resource, [s]);
  }
  return [...groups].map(([resource, loops]) => {
    const state = ORDER.find((st) => loops.some((l) => l.state === st)) ?? 'starting';
    const synced = loops.map((l) => l.lastSyncAt);
    const lastSyncAt = synced.some((t) => t === undefined) ? undefined : Math.min(...(synced as number[]));
    const failed = loops.find((l) => l.lastError !== undefined);
    const lastError = failed?.lastError === undefined ? undefined
      : loops.length > 1 && failed.namespace !== undefined ? `${failed.namespace}: ${failed.lastError}` : failed.lastError;
    return { resource, state, lastSyncAt, lastError };
  });
}
