/**
 * Tests that need an outside tool (promtool, python3, chromium, Alertmanager, root with `ip netns`, openssl) say so.
 * Outside CI a missing tool skips those tests with ONE console line saying why; under CI (env CI set, as CI services and
 * .ci/run set it) a missing tool fails each of those tests with that same reason: CI never skips.
 *
 *   const promtool = needTools('metrics lint', PROMTOOL);      // at the top of the file
 *   describe.skipIf(promtool.skip)('...', () => {
 *     beforeAll(() => { if (promtool.missing) return; ...launch... });   // nothing to launch without it
 *     beforeEach(() => promtool.check());                           // under CI: every test fails with the reason
 *   });
 * or inside one test: `it('...', (ctx) => { promtool.require(ctx); ... })`.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';

/** A tool and, when it cannot be used, why (with how to get it). */
export interface ToolStatus {
  name: string;
  missing?: string;
}

export type ToolVerdict =
  | { action: 'run' }
  | { action: 'skip'; line: string }
  | { action: 'fail'; message: string };

/** CI is on when the CI variable is set to anything but '', '0' or 'false' (CI services set CI=true). */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/** Pure decision: run when every tool is there; otherwise skip with one line, or fail under CI. */
export function toolVerdict(what: string, tools: readonly ToolStatus[], ci: boolean): ToolVerdict {
  const missing = tools.filter((t) => t.missing !== undefined);
  if (missing.length === 0) return { action: 'run' };
  // A reason that already names its tool is not prefixed with the name again.
  const why = missing.map((t) => (t.missing!.includes(t.name) ? t.missing! : `${t.name}: ${t.missing!}`)).join('; ');
  if (ci) return { action: 'fail', message: `${what} cannot run: ${why} (under CI a missing tool fails the test, it is never skipped; .ci/run installs it)` };
  return { action: 'skip', line: `${what} skipped: ${why}` };
}

export interface NeededTools {
  /** For describe.skipIf / it.skipIf: true only outside CI with a tool missing. */
  readonly skip: boolean;
  /** A tool is missing (in or outside CI): do not launch anything that needs it. */
  readonly missing: boolean;
  readonly verdict: ToolVerdict;
  /** Throws the CI failure when a tool is missing under CI (for beforeEach or a test's first line). */
  check(): void;
  /** In a test: skips it with the reason outside CI, fails it under CI. */
  require(ctx: { skip(note?: string): never | void }): void;
}

/**
 * The verdict for tests that need `tools`. Outside CI a skip prints its one line here, once per call (call it once
 * per file, at the top).
 */
export function needTools(what: string, ...tools: ToolStatus[]): NeededTools {
  return needToolsIn(what, tools, isCI(), (line) => console.warn(line));
}

/** needTools with the environment passed in (tested directly). */
export function needToolsIn(what: string, tools: readonly ToolStatus[], ci: boolean, warn: (line: string) => void): NeededTools {
  const verdict = toolVerdict(what, tools, ci);
  if (verdict.action === 'skip') warn(verdict.line);
  return {
    skip: verdict.action === 'skip',
    missing: verdict.action !== 'run',
    verdict,
    check() {
      if (verdict.action === 'fail') throw new Error(verdict.message);
    },
    require(ctx) {
      if (verdict.action === 'fail') throw new Error(verdict.message);
      if (verdict.action === 'skip') ctx.skip(verdict.line);
    },
  };
}

const cache = new Map<string, ToolStatus>();

/** Checks a tool once per process: `probe` returns undefined when it can be used, or why not. */
export function tool(name: string, probe: () => string | undefined): ToolStatus {
  let s = cache.get(name);
  if (!s) {
    let missing: string | undefined;
    try {
      missing = probe();
    } catch (err) {
      missing = err instanceof Error ? err.message : String(err);
    }
    s = missing === undefined ? { name } : { name, missing };
    cache.set(name, s);
  }
  return s;
}

/** Runs `cmd args` and reports why it could not (not found, non-zero exit), or undefined when it exited 0. */
export function commandWorks(cmd: string, args: string[], hint: string): string | undefined {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  if (r.error) return `${cmd} ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is not installed' : `did not run (${r.error.message})`} (${hint})`;
  if (r.status !== 0) return `\`${cmd} ${args.join(' ')}\` exited ${r.status ?? r.signal} (${hint}): ${r.stderr.toString().trim().slice(0, 200)}`;
  return undefined;
}

/** An executable file at a fixed path. */
export function executableAt(path: string, hint: string): string | undefined {
  if (!existsSync(path)) return `${path} is not installed (${hint})`;
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch {
    return `${path} is not executable`;
  }
}

export const PROMTOOL = (): ToolStatus => tool('promtool', () => commandWorks('promtool', ['--version'], 'apt-get install prometheus'));
export const PYTHON3 = (): ToolStatus => tool('python3', () => commandWorks('python3', ['-c', 'import socket'], 'apt-get install python3'));
export const OPENSSL = (): ToolStatus => tool('openssl', () => commandWorks('openssl', ['version'], 'apt-get install openssl'));
/** Root, for network namespaces and sysctls. */
export const ROOT = (): ToolStatus => tool('root', () => (process.getuid?.() === 0 ? undefined : `not running as root (uid ${process.getuid?.()})`));
export const IPROUTE2 = (): ToolStatus => tool('ip', () => commandWorks('ip', ['-V'], 'apt-get install iproute2'));
