import { describe, expect, it } from 'vitest';
import { commandWorks, executableAt, isCI, needToolsIn, tool, toolVerdict, type ToolStatus } from './tools.js';

const present: ToolStatus = { name: 'promtool' };
const missing: ToolStatus = { name: 'promtool', missing: 'promtool is not installed (apt-get install prometheus)' };

/** A stand-in for vitest's test context: records the skip note instead of skipping. */
function fakeCtx() {
  const notes: (string | undefined)[] = [];
  return { notes, skip: (note?: string) => void notes.push(note) };
}

describe('isCI', () => {
  it('is on for CI=true (or any other value) and off for unset, empty, 0 and false', () => {
    expect(isCI({ CI: 'true' })).toBe(true);
    expect(isCI({ CI: '1' })).toBe(true);
    expect(isCI({})).toBe(false);
    expect(isCI({ CI: '' })).toBe(false);
    expect(isCI({ CI: '0' })).toBe(false);
    expect(isCI({ CI: 'False' })).toBe(false);
  });
});

describe('toolVerdict (pure)', () => {
  it('names the tool before a reason that does not', () => {
    expect(toolVerdict('unreachable test', [{ name: 'network namespace', missing: 'not root' }], false)).toEqual({ action: 'skip', line: 'unreachable test skipped: network namespace: not root' });
  });

  it('runs when every tool is there, in or outside CI', () => {
    expect(toolVerdict('metrics lint', [present], false)).toEqual({ action: 'run' });
    expect(toolVerdict('metrics lint', [present], true)).toEqual({ action: 'run' });
  });

  it('outside CI: skips, with one line naming the test, the tool and how to get it', () => {
    expect(toolVerdict('metrics lint', [present, missing], false)).toEqual({
      action: 'skip', line: 'metrics lint skipped: promtool is not installed (apt-get install prometheus)',
    });
  });

  it('under CI: fails with the same reason, never skips', () => {
    const v = toolVerdict('metrics lint', [missing], true);
    expect(v.action).toBe('fail');
    expect(v.action === 'fail' && v.message).toBe(
      'metrics lint cannot run: promtool is not installed (apt-get install prometheus) (under CI a missing tool fails the test, it is never skipped; .ci/run installs it)');
  });
});

describe('needToolsIn', () => {
  it('outside CI with a tool missing: skip is set, exactly one console line, the test is skipped with the reason', () => {
    const warned: string[] = [];
    const need = needToolsIn('metrics lint', [missing], false, (l) => warned.push(l));
    expect(need).toMatchObject({ skip: true, missing: true });
    expect(warned).toEqual(['metrics lint skipped: promtool is not installed (apt-get install prometheus)']);
    const ctx = fakeCtx();
    need.require(ctx);
    expect(ctx.notes).toEqual([warned[0]]);
    expect(() => need.check()).not.toThrow();
    expect(warned).toHaveLength(1);
  });

  it('under CI with a tool missing: nothing is skipped and every check fails with the reason', () => {
    const warned: string[] = [];
    const need = needToolsIn('metrics lint', [missing], true, (l) => warned.push(l));
    expect(need).toMatchObject({ skip: false, missing: true });
    expect(warned).toEqual([]);
    expect(() => need.check()).toThrow(/^metrics lint cannot run: promtool is not installed .*under CI/);
    const ctx = fakeCtx();
    expect(() => need.require(ctx)).toThrow(/under CI a missing tool fails the test, it is never skipped/);
    expect(ctx.notes).toEqual([]);
  });

  it('with every tool present: runs, silently, in or outside CI', () => {
    for (const ci of [false, true]) {
      const warned: string[] = [];
      const need = needToolsIn('metrics lint', [present], ci, (l) => warned.push(l));
      expect(need).toMatchObject({ skip: false, missing: false });
      const ctx = fakeCtx();
      need.require(ctx);
      need.check();
      expect(ctx.notes).toEqual([]);
      expect(warned).toEqual([]);
    }
  });
});

describe('tool probes (real commands)', () => {
  it('a command that is not installed is reported as such, with the hint', () => {
    expect(commandWorks('vipwatch-no-such-tool-xyz', ['--version'], 'apt-get install xyz')).toBe('vipwatch-no-such-tool-xyz is not installed (apt-get install xyz)');
  });

  it('a command that exits non-zero is reported with its exit status and stderr', () => {
    expect(commandWorks(process.execPath, ['-e', 'console.error("broken"); process.exit(3)'], 'hint')).toMatch(/exited 3 \(hint\): broken$/);
  });

  it('a command that works is not missing', () => {
    expect(commandWorks(process.execPath, ['--version'], 'hint')).toBeUndefined();
    expect(executableAt(process.execPath, 'hint')).toBeUndefined();
    expect(executableAt('/nonexistent/vipwatch-tool', 'apt-get install it')).toBe('/nonexistent/vipwatch-tool is not installed (apt-get install it)');
  });

  it('tool() probes once per process and keeps the answer', () => {
    let calls = 0;
    const probe = () => {
      calls++;
      return 'gone';
    };
    expect(tool('vipwatch-test-once', probe)).toEqual({ name: 'vipwatch-test-once', missing: 'gone' });
    expect(tool('vipwatch-test-once', probe)).toEqual({ name: 'vipwatch-test-once', missing: 'gone' });
    expect(calls).toBe(1);
  });
});
