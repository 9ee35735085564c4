import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Secret } from '../lib/secret.js';
import { formatPath, INVALID, typeName, type DecodeContext, type Validator } from './schema-dsl.js';

export type ConfigContext = DecodeContext & { expanded: Set<string> };

/** A string that is kept as a Secret when it came from ${ENV} expansion, so it never prints. */
export function maybeSecret(): Validator<string | Secret> {
  return (v, path, ctx) => {
    if (typeof v !== 'string') return ctx.report(path, `must be a string, got ${typeName(v)}`);
    const expanded = (ctx as Partial<ConfigContext>).expanded?.has(formatPath(path));
    return expanded ? new Secret(v) : v;
  };
}

/** A `*File` key: the file is read at load time (relative to the config file) and kept as a Secret. */
export function secretFile(): Validator<Secret> {
  return (v, path, ctx) => {
    if (typeof v !== 'string' || v === '') return ctx.report(path, `must be a file path, got ${typeName(v)}`);
    const file = resolve(ctx.baseDir, v);
    try {
      return new Secret(readFileSync(file, 'utf8').replace(/\r?\n$/, ''));
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
