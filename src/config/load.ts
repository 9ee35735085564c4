import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError } from '../lib/errors.js';
import { expandEnv } from './expand.js';
import { configValidator, type Config } from './schema.js';
import { DecodeContext, formatPath, INVALID, type Problem } from './schema-dsl.js';
import type { ConfigContext } from './secrets.js';
import { checkAliases } from './yaml-aliases.js';
import { linePos, MAX_NESTING, tooDeep } from './yaml-depth.js';
import { ENV } from '../lib/env-names.js';

/** A config file larger than this is refused before it is parsed (a real one is a few KiB to a few MiB). */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/**
 * A check of a config that passed validation, for what validation does not do (read the files it names): problems
 * name the key to blame and are reported like validation problems (FILE:LINE:COL: path: message).
 */
export type ConfigCheck = (config: Config) => readonly Problem[];

/**
 * The state directory when the config sets no `state.dir`: this variable when set (the container image sets
 * /var/lib/vipwatch, its volume), else `state` beside the config file.
 */
export const STATE_DIR_ENV = ENV.STATE_DIR;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Run after validation succeeded (the CLI passes the cluster's kubeconfig and file check); none by default. */
  check?: ConfigCheck;
}

/**
 * Reads, parses, validates and (with opts.check) checks a config file; throws ConfigError listing every problem as
 * FILE:LINE:COL: path: message.
 */
export function loadConfigFile(file: string, opts: LoadOptions = {}): Config {
  return parseConfig(readConfigBytes(file).toString('utf8'), file, opts);
}

/**
 * The file's bytes, read only up to the size limit (a FIFO or a growing file cannot make it read more): the buffer is
 * sized by the file (a config is a few KiB) and grown only when the file was not its stated size. Throws a
 * ConfigError naming the file when it cannot be read or is over the limit.
 */
export function readConfigBytes(file: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new ConfigError([`${file}: cannot read: EISDIR`]);
    if (st.size > MAX_CONFIG_BYTES) throw tooLarge(file, st.size);
    const limit = MAX_CONFIG_BYTES + 1;
    let buf = Buffer.allocUnsafe(Math.min(limit, Math.max(4096, st.size + 1)));
    let n = 0;
    for (let r; (r = readSync(fd, buf, n, buf.length - n, null)) > 0;) {
      n += r;
      if (n < buf.length) continue;
      if (buf.length >= limit) break;
      const bigger = Buffer.allocUnsafe(Math.min(limit, buf.length * 2));
      buf.copy(bigger, 0, 0, n);
      buf = bigger;
    }
    if (n > MAX_CONFIG_BYTES) throw tooLarge(file);
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(file: string, size?: number): ConfigError {
  const what = size === undefined ? 'more than 8 MiB' : `${size} bytes`;
  return new ConfigError([`${file}: ${what}: a config file may be at most 8 MiB (${MAX_CONFIG_BYTES} bytes); not parsed`]);
}

export function parseConfig(text: string, file: string, opts: LoadOptions = {}): Config {
  if (text.length * 3 > MAX_CONFIG_BYTES && Buffer.byteLength(text) > MAX_CONFIG_BYTES) throw tooLarge(file, Buffer.byteLength(text));
  const deep = tooDeep(text);
  if (deep >= 0) {
    const pos = linePos(text, deep);
    throw new ConfigError([`${file}:${pos.line}:${pos.col}: yaml: nested more than ${MAX_NESTING} levels deep`]);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  for (const e of doc.errors) {
    const pos = lc.linePos(e.pos[0]);
    problems.push(`${file}:${pos.line}:${pos.col}: yaml: ${firstLine(e.message)}`);
  }
  if (problems.length) throw new ConfigError(problems);
  const ctx = Object.assign(new DecodeContext(dirname(resolve(file))), { expanded: new Set<string>() }) as ConfigContext;
  let result: ReturnType<typeof configValidator>;
  let stateDirSet = false;
  try {
    const alias = checkAliases(doc);
    if (alias) {
      const pos = lc.linePos(alias.offset);
      throw new ConfigError([`${file}:${pos.line}:${pos.col}: yaml: ${alias.message}`]);
    }
    // Aliases were bounded above (by what they expand to, not how often they are used).
    const expanded = expandEnv(doc.toJS({ maxAliasCount: -1 }), opts.env ?? process.env, ctx);
    stateDirSet = hasStateDir(expanded);
    result = configValidator(expanded, [], ctx);
  } catch (err) {
    // The parser caps nesting by its own stack; what it accepted may still be too deep for the decoder.
    if (err instanceof RangeError && /call stack/i.test(err.message)) throw new ConfigError([`${file}:1:1: yaml: nested too deeply`]);
    throw err;
  }
  // Only a valid config is checked further; what the check finds is refused the same way, all or nothing.
  const found = ctx.problems.length || result === INVALID ? ctx.problems : (opts.check?.(result) ?? []);
  if (found.length || result === INVALID) {
    const lines = found.map((p) => formatProblem(file, doc, lc, p)).sort(byPosition);
    if (!lines.length) lines.push(`${file}:1:1: (root): invalid configuration`);
    throw new ConfigError(dedupe(lines));
  }
  return withStateDir(result, stateDirSet, ctx.baseDir, opts.env ?? process.env);
}

function hasStateDir(expanded: unknown): boolean {
  const state = (expanded as { state?: unknown } | null)?.state;
  return typeof state === 'object' && state !== null && (state as { dir?: unknown }).dir != null;
}

/**
 * Where state lives. A relative `state.dir` is relative to the directory of the config file, like every other path
 * in it (the validator's pathStr resolves it), not to the working directory: `vipwatch run --config
 * /config/vipwatch.yaml` with `dir: state` keeps its state in /config/state wherever it was started from. Without
 * `state.dir`: $VIPWATCH_STATE_DIR (relative to the working directory) when set, else `state` beside the config file.
 */
function withStateDir(config: Config, set: boolean, baseDir: string, env: NodeJS.ProcessEnv): Config {
  if (set) return config;
  const fromEnv = env[STATE_DIR_ENV];
  return { ...config, state: { ...config.state, dir: fromEnv ? resolve(fromEnv) : resolve(baseDir, config.state.dir) } };
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
