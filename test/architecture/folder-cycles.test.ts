import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** File-level import graph of src/, read from the import statements (type imports included: they couple too). */
function fileEdges(root = 'src'): Map<string, Set<string>> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(root);
  const edges = new Map<string, Set<string>>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = relative(root, normalize(join(dirname(f), m[1]!))).replace(/\.js$/, '.ts');
      (edges.get(relative(root, f)) ?? edges.set(relative(root, f), new Set()).get(relative(root, f))!).add(target);
    }
  }
  return edges;
}

/** The same graph folded to src's top-level folders. */
function folderEdges(): Map<string, Set<string>> {
  const folderOf = (file: string) => file.split('/')[0]!.replace(/\.ts$/, '');
  const edges = new Map<string, Set<string>>();
  for (const [from, to] of fileEdges()) {
    for (const t of to) {
      const [a, b] = [folderOf(from), folderOf(t)];
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
 * The floors of src, lowest first: a folder imports only folders below it, so data flows one way (probe -> history ->
 * diagnosis -> incidents -> alerting, with the pipeline and the app on top wiring them). A new folder must be placed here.
 */
const FLOORS = ['lib', 'agent', 'probe', 'config', 'history', 'cluster', 'evidence', 'diagnosis', 'incidents', 'alerting', 'metrics', 'schedule', 'pipeline', 'server', 'app', 'cli'];

describe('folder imports', () => {
  it('no folder imports a folder that imports it back', () => {
    const edges = folderEdges();
    expect(edges.size).toBeGreaterThan(5);
    expect(mutualPairs(edges)).toEqual([]);
  });

  it('every folder imports only floors below it', () => {
    const edges = folderEdges();
    expect([...edges.keys()].filter((f) => !FLOORS.includes(f)), 'folders missing from FLOORS').toEqual([]);
    for (const [from, to] of edges) {
      const upward = [...to].filter((t) => FLOORS.indexOf(t) >= FLOORS.indexOf(from));
      expect(upward, `${from} imports`).toEqual([]);
    }
  });

  it('no two files import each other', () => {
    expect(mutualPairs(fileEdges())).toEqual([]);
  });

  it('the lowest floor, src/lib, imports no other folder of src', () => {
    expect([...(folderEdges().get('lib') ?? [])]).toEqual([]);
  });

  it('the lower floors (lib, probe, config) import only floors below them', () => {
    const edges = folderEdges();
    const floors = ['lib', 'probe', 'config'];
    floors.forEach((floor, i) => {
      const above = [...(edges.get(floor) ?? [])].filter((f) => !floors.slice(0, i).includes(f));
      expect(above, `${floor} imports`).toEqual([]);
    });
  });
});
