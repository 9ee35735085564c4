import { formatPath, isPlainObject, type DecodeContext, type Path } from './schema-dsl.js';

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\$/g;

/**
 * Expands ${ENV_VAR} in every string scalar. `$$` is a literal `$`.
 * Paths whose value came from the environment are recorded, so secret-capable fields keep them redacted.
 */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, ctx: DecodeContext & { expanded: Set<string> }, path: Path = []): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    let used = false;
    const out = value.replace(VAR, (m, name: string | undefined) => {
      if (m === '$$') return '$';
      used = true;
      const v = env[name!];
      if (v === undefined) {
        ctx.report(path, `environment variable ${name} is not set`);
        return '';
      }
      return v;
    });
    if (used) ctx.expanded.add(formatPath(path));
    return out;
  }
  if (Array.isArray(value)) return value.map((x, i) => expandEnv(x, env, ctx, [...path, i]));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(value)) out[k] = expandEnv(x, env, ctx, [...path, k]);
    return out;
  }
  return value;
}
