import { describe, expect, it } from 'vitest';
import { attributeFailure, backendNodeFromView } from '../../src/diagnosis/attribution.js';
import type { TargetClusterView } from '../../src/cluster/types.js';
import { context, run, Stream } from './helpers.js';

const view: TargetClusterView = {
  service: 'default/web',
  endpoints: [
    { addresses: ['10.244.1.3'], node: 'node-1', pod: 'web-1', ready: true, serving: true, terminating: false },
    { addresses: ['10.244.2.7'], node: 'node-2', pod: 'web-2', ready: true, serving: true, terminating: false },
  ],
  endpointsPerNode: { 'node-1': 1, 'node-2': 1 },
  stale: false,
};

describe('attributeFailure', () => {
  const asym = run(new Stream().add('1X3', 12));

  it('is observed when the response named its backend', () => {
    const a = new Stream().add('b').attempts[0]!;
    expect(attributeFailure(a, asym)).toEqual({ node: 'node-2', how: 'observed' });
  });

  it('maps a named backend (pod name or pod IP) through the view', () => {
    const [a, b] = new Stream({ cluster: null }).add('HH').attempts;
    expect(attributeFailure({ ...a!, backend: 'web-2' }, undefined, view)).toEqual({ node: 'node-2', how: 'observed' });
    expect(attributeFailure({ ...b!, backend: '10.244.1.3' }, undefined, view)).toEqual({ node: 'node-1', how: 'observed' });
    expect(backendNodeFromView('node-1', view)).toBe('node-1');
    expect(backendNodeFromView('nobody', view)).toBeUndefined();
  });

  it('is unknown without a cluster view', () => {
    const a = new Stream({ cluster: null }).add('X').attempts[0]!;
    expect(attributeFailure(a, asym)).toEqual({ node: 'unknown', how: 'inferred' });
  });

  it('infers the single suspected node for failures of the kind it explains', () => {
    const [t, r] = new Stream().add('XR').attempts;
    expect(asym.suspectedNodes).toEqual(['node-2']);
    expect(attributeFailure(t!, asym)).toEqual({ node: 'node-2', how: 'inferred' });
    // A refusal is not what an rp_filter drop looks like.
    expect(attributeFailure(r!, asym)).toEqual({ node: 'ambiguous', how: 'inferred' });
  });

  it('is ambiguous when several nodes remain, the view is stale, or the attempt was made under another view', () => {
    const two = run(new Stream().add('1XX', 9));
    const x = new Stream().add('X').attempts[0]!;
    expect(attributeFailure(x, two)).toEqual({ node: 'ambiguous', how: 'inferred' });
    const stale = new Stream({ cluster: context({ stale: true }) }).add('X').attempts[0]!;
    expect(attributeFailure(stale, asym)).toEqual({ node: 'ambiguous', how: 'inferred' });
    const other = new Stream({ cluster: context({ viewVersion: 'v9' }) }).add('X').attempts[0]!;
    expect(attributeFailure(other, asym)).toEqual({ node: 'ambiguous', how: 'inferred' });
  });

  it('under announcement_conflict, blames the suspected node whose MAC the failure went to, and only a steady single-MAC entry', () => {
    const conflict = { ...asym, verdict: 'announcement_conflict' as const, suspectedNodes: ['node-3'] };
    const via = (macs: string[], nodes: string[], steady = true) => new Stream({ cluster: context({ neighbour: { macs, nodes, steady } }) }).add('X').attempts[0]!;
    expect(attributeFailure(via(['02:00:00:00:00:03'], ['node-3']), conflict)).toEqual({ node: 'node-3', how: 'inferred' });
    // Through the legitimate announcer's MAC: not what the conflict explains.
    expect(attributeFailure(via(['02:00:00:00:00:01'], ['node-1']), conflict)).toEqual({ node: 'ambiguous', how: 'inferred' });
    expect(attributeFailure(via(['02:00:00:00:00:03'], ['node-3'], false), conflict)).toEqual({ node: 'ambiguous', how: 'inferred' });
    expect(attributeFailure(via(['02:00:00:00:00:03'], []), conflict)).toEqual({ node: 'ambiguous', how: 'inferred' });
    // The same attempt under another verdict is not attributed by its MAC.
    expect(attributeFailure(via(['02:00:00:00:00:03'], ['node-3']), run(new Stream().add('1XX', 9)))).toEqual({ node: 'ambiguous', how: 'inferred' });
  });

  it('infers the only node with endpoints', () => {
    const a = new Stream({ cluster: context({ endpointsPerNode: { 'node-3': 2, 'node-1': 0 } }) }).add('X').attempts[0]!;
    expect(attributeFailure(a)).toEqual({ node: 'node-3', how: 'inferred' });
  });

  it('is unknown when no node has endpoints', () => {
    const a = new Stream({ cluster: context({ endpointsPerNode: {} }) }).add('R').attempts[0]!;
    expect(attributeFailure(a)).toEqual({ node: 'unknown', how: 'inferred' });
  });
});
