import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { VipwatchError } from '../../src/lib/errors.js';

const SPEC = { values: ['config', 'sink'], booleans: ['help'] };

function usage(argv: string[], spec = SPEC): UsageError {
  try {
    parseArgs(argv, spec);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`no usage error for ${JSON.stringify(argv)}`);
}

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, env: {}, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l) };
}

describe('parseArgs (node:util, strict)', () => {
  it('reads --flag value, --flag=value, --help and -h, and keeps positionals for the caller', () => {
    expect(parseArgs(['--config', 'a.yaml', '--sink=ops'], SPEC)).toEqual({ flags: { config: 'a.yaml', sink: 'ops' }, positionals: [] });
    expect(parseArgs(['-h'], SPEC).flags).toEqual({ help: true });
    expect(parseArgs(['--help', 'extra'], SPEC)).toEqual({ flags: { help: true }, positionals: ['extra'] });
  });

  it('names the offending option in a usage error with a stable code', () => {
    const e = usage(['--confg', 'x']);
    expect(e).toBeInstanceOf(VipwatchError);
    expect(e.code).toBe('VIPWATCH_USAGE');
    expect(e.message).toBe('unknown option --confg');
    expect(usage(['-x']).message).toBe('unknown option -x');
    expect(usage(['--config']).message).toBe('--config needs a value');
    expect(usage(['--config=']).message).toBe('--config needs a value');
    expect(usage(['--config', '--sink', 'ops']).message).toBe('--config needs a value');
    expect(usage(['--config', '-h']).message).toBe('--config needs a value');
    expect(parseArgs(['--config=-odd.yaml'], SPEC).flags).toEqual({ config: '-odd.yaml' });
    expect(usage(['--help=yes']).message).toBe('--help takes no value');
    expect(usage(['--sink', 'ops'], { values: ['config'], booleans: ['help'] }).message).toBe('unknown option --sink');
  });
});

describe('main: options only for the commands that use them', () => {
  it('refuses --sink for run and check-config (exit 2, option named), accepts it for test-alert', async () => {
    for (const command of ['run', 'check-config']) {
      const io = capture();
      expect(await main([command, '--config', 'x.yaml', '--sink', 'ops'], io)).toBe(2);
      expect(io.stderr[0]).toBe('vipwatch: unknown option --sink');
    }
    const io = capture();
    // Parsing passed: the failure is the missing file (exit 1), not usage.
    expect(await main(['test-alert', '--config', '/nonexistent/vipwatch.yaml', '--sink', 'ops'], io)).toBe(1);
    expect(io.stderr.join('\n')).not.toContain('unknown option');
  });
});
