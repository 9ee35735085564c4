/**
 * YAML aliases checked before the document is turned into data: an unknown alias, an alias inside the node it
 * names (a cycle), or aliases that expand to more than MAX_ALIAS_EXPANSION values (an "alias bomb": a few lines
 * that expand to billions of values) are reported at the alias, with its line and column, instead of a crash.
 * Counting expanded values, not alias uses, lets a real config reuse one anchor for thousands of targets.
 */
import { isAlias, isMap, isPair, isSeq, visit, type Alias, type Document, type Node } from 'yaml';

/** Values that aliases may add to the document once expanded (a config without aliases is bounded by its size). */
export const MAX_ALIAS_EXPANSION = 1_000_000;

export interface AliasProblem {
  /** Offset of the alias in the source text. */
  offset: number;
  message: string;
}

/** The first alias problem in document order, or undefined when every alias is sound. */
export function checkAliases(doc: Document): AliasProblem | undefined {
  const targets = resolveAll(doc);
  if (!targets.size) return undefined;
  const sizes = new Map<unknown, number>();
  const active = new Set<unknown>();
  let added = 0;

  /** Values a node stands for once every alias inside it is expanded (capped just above the limit). */
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targets.get(node);
      if (!target) return 1;
      if (active.has(target)) throw new Cycle();
      return size(target);
    }
    const known = sizes.get(node);
    if (known !== undefined) return known;
    active.add(node);
    let n = 1;
    for (const child of children(node)) {
      n += size(child);
      if (n > MAX_ALIAS_EXPANSION) break;
    }
    active.delete(node);
    sizes.set(node, n);
    return n;
  };

  /** Visits every node written in the file once; each alias adds what it expands to. */
  const walk = (node: unknown): AliasProblem | undefined => {
    if (isAlias(node)) {
      const at = node.range?.[0] ?? 0;
      const target = targets.get(node);
      if (!target) return { offset: at, message: `unknown alias *${node.source}: its anchor &${node.source} must come before it` };
      try {
        added += size(target);
      } catch (err) {
        if (err instanceof Cycle) return { offset: at, message: `alias *${node.source} is inside the node it names (a cycle)` };
        throw err;
      }
      if (added > MAX_ALIAS_EXPANSION) {
        return { offset: at, message: `aliases expand to more than ${MAX_ALIAS_EXPANSION} values (an alias bomb?): write the values out` };
      }
      return undefined;
    }
    for (const child of children(node)) {
      const p = walk(child);
      if (p) return p;
    }
    return undefined;
  };

  return walk(doc.contents);
}

class Cycle extends Error {}

function children(node: unknown): unknown[] {
  if (isMap(node) || isSeq(node)) return node.items as unknown[];
  if (isPair(node)) return [node.key, node.value].filter((x) => x !== null && x !== undefined);
  return [];
}

/** Each alias's node: the last node with its anchor before it (YAML's rule), in one pass; null when there is none. */
function resolveAll(doc: Document): Map<Alias, Node | null> {
  const current = new Map<string, Node>();
  const out = new Map<Alias, Node | null>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) out.set(node, current.get(node.source) ?? null);
      else if (node.anchor) current.set(node.anchor, node);
    },
  });
  return out;
}
