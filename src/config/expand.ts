import { pinSecret } from '../lib/redact.js';
import { formatPath, isPlainObject, type DecodeContext, type Path } from './schema-dsl.js';

/**
 * Plain-string fields that are URL parts (a target's request path, `/health?token=${T}`): the values substituted
 * there are secrets to the scrubber, so a peer echoing the request line does not print them.
 */
const URL_PART = /^targets\[\d+\]\.http\.path$/;

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\$/g;

export interface ExpandContext extends DecodeContext {
  /** Paths whose value came (at least partly) from the environment. */
  expanded: Set<string>;
  /** The substituted values per path: secret-capable fields hand them to the scrubber (a header "Bearer ${T}" -> T). */
  envValues?: Map<string, string[]>;
}

/**
 * Expands ${ENV_VAR} in every string scalar. `$$` is a literal `$`.
 * Paths whose value came from the environment are recorded with the values substituted, so secret-capable fields
 * keep them redacted and the scrubber learns the bare values.
 */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, ctx: ExpandContext, path: Path = []): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    const values: string[] = [];
    const out = value.replace(VAR, (m, name: string | undefined) => {
      if (m === '$$') return '$';
      const v = env[name!];
      if (v === undefined) {
        ctx.report(path, `environment variable ${name} is not set`);
        values.push('');
        return '';
      }
      values.push(v);
      return v;
    });
    if (values.length) {
      const key = formatPath(path);
      ctx.expanded.add(key);
      (ctx.envValues ??= new Map()).set(key, values.filter((v) => v !== ''));
      if (URL_PART.test(key)) for (const v of values) pinSecret(v);
    }
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
