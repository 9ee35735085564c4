import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERR, type ErrorCode } from '../../src/lib/error-codes.js';
import { VipwatchError } from '../../src/lib/errors.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REGISTRY = 'src/lib/error-codes.ts';
/** The other registry of VIPWATCH_ names: the environment variables vipwatch reads (not error codes). */
const ENV_REGISTRY = 'src/lib/env-names.ts';

/** A quote directly followed by VIPWATCH_: a code spelled as a string instead of named from ERR. */
const CODE_LITERAL = /['"`]VIPWATCH_[A-Z0-9_]*/g;

function sourceFiles(dir = join(ROOT, 'src')): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** file (relative to the repo) -> the `line: literal` hits in it. */
function literalsBySourceFile(): Map<string, string[]> {
  const hits = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const rel = relative(ROOT, file).split('\\').join('/');
    if (rel === REGISTRY || rel === ENV_REGISTRY) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(CODE_LITERAL)) (hits.get(rel) ?? hits.set(rel, []).get(rel)!).push(`${i + 1}: ${m[0]}`);
    });
  }
  return hits;
}

describe('the error-code registry (ERR)', () => {
  it('every code is VIPWATCH_ followed by its key, so codes are unique and read the same in code and in logs', () => {
    for (const [key, code] of Object.entries(ERR)) {
      expect(key).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(code).toBe(`VIPWATCH_${key}`);
    }
    const codes = Object.values(ERR);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('is the only place in src that spells a VIPWATCH_ code as a string', () => {
    expect(Object.fromEntries(literalsBySourceFile())).toEqual({});
  });

  it('the type checker refuses a code that is not in the registry (checked by tsc, which reads test/)', () => {
    const known: ErrorCode = ERR.KUBE_EXPIRED;
    // @ts-expect-error a typo in a code is a type error
    const typo: ErrorCode = 'VIPWATCH_KUBE_EXPIERD';
    // @ts-expect-error VipwatchError takes only registry codes
    const err = new VipwatchError('VIPWATCH_NO_SUCH_CODE', 'x');
    expect([known, typo, err.code]).toEqual(['VIPWATCH_KUBE_EXPIRED', 'VIPWATCH_KUBE_EXPIERD', 'VIPWATCH_NO_SUCH_CODE']);
  });
});
