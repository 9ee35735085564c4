import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Folder-level import graph of src/, read from the import statements (type imports included: they couple too). */
function folderEdges(root = 'src'): Map<string, Set<string>> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(root);
  const folderOf = (file: string) => relative(root, file).split('/')[0]!.replace(/\.(ts|js)$/, '');
  const edges = new Map<string, Set<string>>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = normalize(join(dirname(f), m[1]!));
      const [a, b] = [folderOf(f), folderOf(target)];
      if (a !== b) (edges.get(a) ?? edges.set(a, new Set()).get(a)!).add(b);
    }
  }
  return edges;
}

function mutualPairs(edges: Map<string, Set<string>>): string[] {
  const out: string[] = [];
  for (const [a, to] of edges) for (const b of to) if (a < b && edges.get(b)?.has(a)) out.push(`${a} <-> ${b}`);
  return out.sort();
}

/**
 * Cycles still to remove (issue 10): the kubernetes config section reads kubeconfig files through cluster/ during
 * validation, and the diagnosis runner builds the incident manager. This list may only shrink: a new cycle fails here,
 * and so does a removed one until it is taken off the list.
 */
const KNOWN_CYCLES = ['cluster <-> config', 'diagnosis <-> incidents'];

describe('folder imports', () => {
  it('no folder imports a folder that imports it back, beyond the known cycles being removed', () => {
    const edges = folderEdges();
    expect(edges.size).toBeGreaterThan(5);
    expect(mutualPairs(edges)).toEqual(KNOWN_CYCLES);
  });

  it('the lowest floor, src/lib, imports no other folder of src', () => {
    expect([...(folderEdges().get('lib') ?? [])]).toEqual([]);
  });
});
