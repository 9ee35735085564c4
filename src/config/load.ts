import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError } from '../lib/errors.js';
import { expandEnv } from './expand.js';
import { configValidator, type Config } from './schema.js';
import { DecodeContext, formatPath, INVALID, type Problem } from './schema-dsl.js';
import type { ConfigContext } from './secrets.js';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

/** Reads, parses and validates a config file; throws ConfigError listing every problem as FILE:LINE:COL: path: message. */
export function loadConfigFile(file: string, opts: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseConfig(text, file, opts);
}

export function parseConfig(text: string, file: string, opts: LoadOptions = {}): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  for (const e of doc.errors) {
    const pos = lc.linePos(e.pos[0]);
    problems.push(`${file}:${pos.line}:${pos.col}: yaml: ${firstLine(e.message)}`);
  }
  if (problems.length) throw new ConfigError(problems);
  const ctx = Object.assign(new DecodeContext(dirname(resolve(file))), { expanded: new Set<string>() }) as ConfigContext;
  const expanded = expandEnv(doc.toJS({ maxAliasCount: 100 }), opts.env ?? process.env, ctx);
  const result = configValidator(expanded, [], ctx);
  if (ctx.problems.length || result === INVALID) {
    const lines = ctx.problems.map((p) => formatProblem(file, doc, lc, p)).sort(byPosition);
    if (!lines.length) lines.push(`${file}:1:1: (root): invalid configuration`);
    throw new ConfigError(dedupe(lines));
  }
  return result;
}

function formatProblem(file: string, doc: Document, lc: LineCounter, p: Problem): string {
  const offset = locate(doc, p.path, p.atKey ?? false);
  const pos = lc.linePos(offset);
  return `${file}:${pos.line}:${pos.col}: ${formatPath(p.path)}: ${p.message}`;
}

/** Offset of the deepest node on the path (the key itself when atKey, or for a missing key its parent). */
function locate(doc: Document, path: readonly (string | number)[], atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === part);
      if (!pair) return offset;
      const keyNode = pair.key as Node;
      if (last && atKey) return keyNode.range?.[0] ?? offset;
      const val = pair.value as Node | null;
      offset = val?.range?.[0] ?? keyNode.range?.[0] ?? offset;
      node = val;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as Node | undefined;
      if (!item) return offset;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else return offset;
  }
  return offset;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}

function byPosition(a: string, b: string): number {
  const pa = /:(\d+):(\d+): /.exec(a);
  const pb = /:(\d+):(\d+): /.exec(b);
  return Number(pa?.[1]) - Number(pb?.[1]) || Number(pa?.[2]) - Number(pb?.[2]);
}
