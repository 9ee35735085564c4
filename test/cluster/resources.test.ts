import { describe, expect, it } from 'vitest';
import { summarizeByResource } from '../../src/cluster/resource-summary.js';
import { accessPlan, collectionPath } from '../../src/cluster/resources.js';
import { IndexedStore } from '../../src/cluster/store.js';

describe('the loops vipwatch runs', () => {
  it('cluster-wide by default; with kubernetes.namespaces one per namespace for Services, EndpointSlices and events', () => {
    const paths = (namespaces?: string[]) => accessPlan({ namespaces, metallbNamespace: 'lb' }).map(collectionPath);
    expect(paths()).toEqual([
      '/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices', '/api/v1/nodes',
      '/apis/metallb.io/v1beta1/namespaces/lb/servicel2statuses', '/api/v1/events',
    ]);
    expect(paths(['a', 'b'])).toEqual([
      '/api/v1/namespaces/a/services', '/api/v1/namespaces/b/services',
      '/apis/discovery.k8s.io/v1/namespaces/a/endpointslices', '/apis/discovery.k8s.io/v1/namespaces/b/endpointslices',
      '/api/v1/nodes', '/apis/metallb.io/v1beta1/namespaces/lb/servicel2statuses',
      '/api/v1/namespaces/a/events', '/api/v1/namespaces/b/events',
    ]);
  });
});

describe('a store fed by one loop per namespace', () => {
  it('a partition replaces and clears only its own namespace, and the index follows', () => {
    const store = new IndexedStore<{ svc: string }>((o) => [o.svc]);
    const a = store.partition('a');
    const b = store.partition('b');
    a.replace([['a/1', { svc: 'x' }], ['a/2', { svc: 'y' }]]);
    b.replace([['b/1', { svc: 'x' }]]);
    expect([a.size, b.size, store.size]).toEqual([2, 1, 3]);
    const gen = store.generation;
    a.replace([['a/2', { svc: 'x' }]]);
    expect(store.generation).toBeGreaterThan(gen);
    expect(store.byIndex('x').length).toBe(2);
    expect(store.byIndex('y')).toEqual([]);
    b.clear();
    expect([...store.values()]).toEqual([{ svc: 'x' }]);
    expect(store.get('a/2')).toEqual({ svc: 'x' });
  });
});

describe('per-resource status for the metrics', () => {
  it('synced only when every loop is; the worst state, the oldest sync, the first error with its namespace', () => {
    expect(summarizeByResource([
      { resource: 'services', namespace: 'a', state: 'synced', lastSyncAt: 5 },
      { resource: 'services', namespace: 'b', state: 'disabled', lastSyncAt: 3, lastError: 'forbidden: …' },
      { resource: 'nodes', state: 'synced', lastSyncAt: 7 },
      { resource: 'events', namespace: 'a', state: 'synced', lastSyncAt: 2 },
      { resource: 'events', namespace: 'b', state: 'starting' },
    ])).toEqual([
      { resource: 'services', state: 'disabled', lastSyncAt: 3, lastError: 'b: forbidden: …' },
      { resource: 'nodes', state: 'synced', lastSyncAt: 7, lastError: undefined },
      { resource: 'events', state: 'starting', lastSyncAt: undefined, lastError: undefined },
    ]);
    // One loop per resource: the same statuses but for the namespace.
    expect(summarizeByResource([{ resource: 'servicel2statuses', namespace: 'lb', state: 'failing', lastError: 'x' }]))
      .toEqual([{ resource: 'servicel2statuses', state: 'failing', lastSyncAt: undefined, lastError: 'x' }]);
  });
});
