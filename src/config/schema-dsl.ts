/**
 * A small validating decoder. Each validator returns the decoded value or INVALID and records
 * every problem (with its path) in the context, so all problems are reported at once.
 */
import { parseDuration } from '../lib/duration.js';

export type PathPart = string | number;
export type Path = readonly PathPart[];

export interface Problem {
  path: Path;
  message: string;
  /** Point at the key itself (unknown keys) instead of its value. */
  atKey?: boolean;
}

export class DecodeContext {
  readonly problems: Problem[] = [];
  constructor(readonly baseDir: string = process.cwd()) {}
  report(path: Path, message: string, atKey = false): typeof INVALID {
    this.problems.push({ path, message, atKey });
    return INVALID;
  }
}

export const INVALID: unique symbol = Symbol('invalid');
export type Decoded<T> = T | typeof INVALID;
export type Validator<T> = (value: unknown, path: Path, ctx: DecodeContext) => Decoded<T>;

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

export function str(opts: { nonEmpty?: boolean; pattern?: RegExp; patternHint?: string } = {}): Validator<string> {
  return (v, path, ctx) => {
    if (typeof v !== 'string') return ctx.report(path, `must be a string, got ${typeName(v)}`);
    if (opts.nonEmpty !== false && v === '') return ctx.report(path, 'must not be empty');
    if (opts.pattern && !opts.pattern.test(v)) return ctx.report(path, opts.patternHint ?? `must match ${opts.pattern}`);
    return v;
  };
}

export function bool(): Validator<boolean> {
  return (v, path, ctx) => (typeof v === 'boolean' ? v : ctx.report(path, `must be true or false, got ${typeName(v)}`));
}

export function int(opts: { min?: number; max?: number } = {}): Validator<number> {
  return (v, path, ctx) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return ctx.report(path, `must be an integer, got ${JSON.stringify(v) ?? typeName(v)}`);
    if (opts.min !== undefined && v < opts.min) return ctx.report(path, `must be >= ${opts.min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) return ctx.report(path, `must be <= ${opts.max}, got ${v}`);
    return v;
  };
}

export function num(opts: { min?: number; max?: number; exclusiveMin?: boolean } = {}): Validator<number> {
  return (v, path, ctx) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return ctx.report(path, `must be a number, got ${JSON.stringify(v) ?? typeName(v)}`);
    if (opts.min !== undefined && (opts.exclusiveMin ? v <= opts.min : v < opts.min))
      return ctx.report(path, `must be ${opts.exclusiveMin ? '>' : '>='} ${opts.min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) return ctx.report(path, `must be <= ${opts.max}, got ${v}`);
    return v;
  };
}

/** A duration like "500ms", "2s", "1m"; decoded to milliseconds. */
export function duration(opts: { min?: number; max?: number; maxHint?: string } = {}): Validator<number> {
  return (v, path, ctx) => {
    if (typeof v !== 'string') return ctx.report(path, `must be a duration like "500ms", "2s" or "1m", got ${JSON.stringify(v) ?? typeName(v)}`);
    const ms = parseDuration(v);
    if (ms === undefined) return ctx.report(path, `invalid duration ${JSON.stringify(v)}: use a number with ms, s, m, h or d, like "500ms" or "2s"`);
    if (opts.min !== undefined && ms < opts.min) return ctx.report(path, `must be at least ${opts.min}ms, got ${v}`);
    if (opts.max !== undefined && ms > opts.max) return ctx.report(path, `must be at most ${opts.maxHint ?? `${opts.max}ms`}, got ${v}`);
    return ms;
  };
}

export function oneOf<T extends string>(values: readonly T[]): Validator<T> {
  return (v, path, ctx) =>
    typeof v === 'string' && (values as readonly string[]).includes(v)
      ? (v as T)
      : ctx.report(path, `must be one of ${values.join(', ')}, got ${JSON.stringify(v) ?? typeName(v)}`);
}

export function regex(): Validator<RegExp> {
  return (v, path, ctx) => {
    if (typeof v !== 'string') return ctx.report(path, `must be a regular expression string, got ${typeName(v)}`);
    try {
      return new RegExp(v);
    } catch (err) {
      return ctx.report(path, `invalid regular expression: ${(err as Error).message}`);
    }
  };
}

export function arrayOf<T>(item: Validator<T>, opts: { minItems?: number } = {}): Validator<T[]> {
  return (v, path, ctx) => {
    if (!Array.isArray(v)) return ctx.report(path, `must be a list, got ${typeName(v)}`);
    if (opts.minItems !== undefined && v.length < opts.minItems) return ctx.report(path, `must have at least ${opts.minItems} item(s)`);
    const out: T[] = [];
    let bad = false;
    v.forEach((x, i) => {
      const r = item(x, [...path, i], ctx);
      if (r === INVALID) bad = true;
      else out.push(r);
    });
    return bad ? INVALID : out;
  };
}

/** A mapping with free-form string keys. */
export function record<T>(item: Validator<T>): Validator<Record<string, T>> {
  return (v, path, ctx) => {
    if (!isPlainObject(v)) return ctx.report(path, `must be a mapping, got ${typeName(v)}`);
    const out: Record<string, T> = {};
    let bad = false;
    for (const [k, x] of Object.entries(v)) {
      const r = item(x, [...path, k], ctx);
      if (r === INVALID) bad = true;
      else out[k] = r;
    }
    return bad ? INVALID : out;
  };
}

export interface Field<T> {
  validator: Validator<T>;
  required?: boolean;
  default?: T | (() => T);
}

export function field<T, const O extends { required?: boolean; default?: T | (() => T) } = {}>(
  validator: Validator<T>,
  opts?: O,
): Field<T> & O {
  return { validator, ...(opts ?? {}) } as Field<T> & O;
}

type Shape = Record<string, Field<unknown>>;
type FieldValue<F> = F extends Field<infer T> ? T : never;
export type ObjectOf<S extends Shape> = {
  [K in keyof S]: S[K] extends { required: true } ? FieldValue<S[K]> : S[K] extends { default: unknown } ? FieldValue<S[K]> : FieldValue<S[K]> | undefined;
};

/** A mapping with known keys; unknown keys are errors pointing at the key. */
export function object<S extends Shape, R = ObjectOf<S>>(
  shape: S,
  refine?: (value: ObjectOf<S>, path: Path, ctx: DecodeContext, raw: Record<string, unknown>) => Decoded<R>,
): Validator<R> {
  return (v, path, ctx) => {
    if (v === null || v === undefined) v = {};
    if (!isPlainObject(v)) return ctx.report(path, `must be a mapping, got ${typeName(v)}`);
    const raw = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    let bad = false;
    for (const key of Object.keys(raw)) {
      if (!(key in shape)) {
        const known = Object.keys(shape);
        const hint = suggest(key, known);
        ctx.report([...path, key], `unknown key${hint ? `; did you mean "${hint}"?` : ` (known: ${known.join(', ')})`}`, true);
        bad = true;
      }
    }
    for (const [key, f] of Object.entries(shape)) {
      const x = raw[key];
      if (x === undefined || x === null) {
        if (f.required) {
          ctx.report([...path, key], 'is required');
          bad = true;
        } else if (f.default !== undefined) {
          out[key] = typeof f.default === 'function' ? (f.default as () => unknown)() : f.default;
        }
        continue;
      }
      const r = f.validator(x, [...path, key], ctx);
      if (r === INVALID) bad = true;
      else out[key] = r;
    }
    if (bad) return INVALID;
    return refine ? refine(out as ObjectOf<S>, path, ctx, raw) : (out as R);
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function suggest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = levenshtein(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function formatPath(path: Path): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(p)) s += `[${JSON.stringify(p)}]`;
    else s += s === '' ? p : `.${p}`;
  }
  return s || '(root)';
}
