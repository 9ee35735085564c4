import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pinSecret } from '../lib/redact.js';
import { Secret } from '../lib/secret.js';
import type { ExpandContext } from './expand.js';
import { formatPath, INVALID, typeName, type DecodeContext, type Path, type Validator } from './schema-dsl.js';

export type ConfigContext = ExpandContext;

/** The environment values substituted at path, or undefined when the value did not come from the environment. */
export function envValuesAt(ctx: DecodeContext, path: Path): string[] | undefined {
  const c = ctx as Partial<ConfigContext>;
  const key = formatPath(path);
  if (!c.expanded?.has(key)) return undefined;
  return c.envValues?.get(key) ?? [];
}

/** A string that is kept as a Secret when it came from ${ENV} expansion, so it never prints. */
export function maybeSecret(): Validator<string | Secret> {
  return (v, path, ctx) => {
    if (typeof v !== 'string') return ctx.report(path, `must be a string, got ${typeName(v)}`);
    const values = envValuesAt(ctx, path);
    if (!values) return v;
    // The whole value and each substituted part: a peer may echo "Bearer <token>" or only the token.
    pinSecret(v);
    for (const x of values) pinSecret(x);
    return new Secret(v);
  };
}

/** A `*File` key: the file is read at load time (relative to the config file) and kept as a Secret. */
export function secretFile(): Validator<Secret> {
  return (v, path, ctx) => {
    if (typeof v !== 'string' || v === '') return ctx.report(path, `must be a file path, got ${typeName(v)}`);
    const file = resolve(ctx.baseDir, v);
    try {
      const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      pinSecret(value);
      return new Secret(value);
    } catch (err) {
      return ctx.report(path, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
}

/** A file read at load time (CA bundles, certificates): contents returned as text. */
export function textFile(): Validator<string> {
  return (v, path, ctx) => {
    if (typeof v !== 'string' || v === '') return ctx.report(path, `must be a file path, got ${typeName(v)}`);
    const file = resolve(ctx.baseDir, v);
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      return ctx.report(path, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
}

/** A path resolved relative to the config file. */
export function pathStr(): Validator<string> {
  return (v, path, ctx) => (typeof v === 'string' && v !== '' ? resolve(ctx.baseDir, v) : ctx.report(path, `must be a path, got ${typeName(v)}`));
}

export { INVALID };
