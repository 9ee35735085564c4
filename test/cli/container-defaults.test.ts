/**
 * What the container image relies on, outside the image: `run` falls back to VIPWATCH_DEFAULT_CONFIG only when the
 * --config file does not exist (and says what to mount first); the state directory without `state.dir` is
 * VIPWATCH_STATE_DIR, else `state` beside the config file; a relative `state.dir` is relative to the config file.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFileToRun, DEFAULT_CONFIG_ENV } from '../../src/cli/config-path.js';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadConfigFile, STATE_DIR_ENV } from '../../src/config/load.js';
import { freePort } from '../support/net-servers.js';
import { RunProcess } from './run-process.js';

function capture(env: NodeJS.ProcessEnv = {}): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, env, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l) };
}

const TARGETS = 'targets:\n  - { name: t, address: 127.0.0.1, port: 9, protocol: tcp }\n';

describe('run: the built-in default config when --config names a missing file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-default-'));
  const missing = join(dir, 'absent', 'vipwatch.yaml');

  it('uses VIPWATCH_DEFAULT_CONFIG and logs first what to mount', () => {
    const io = capture({ [DEFAULT_CONFIG_ENV]: '/app/config/container.yaml' });
    expect(configFileToRun(missing, io)).toBe('/app/config/container.yaml');
    expect(io.stdout).toHaveLength(1);
    expect(JSON.parse(io.stdout[0]!)).toMatchObject({
      level: 'warn',
      msg: `no ${missing}: running the built-in default; mount your config at ${missing}`,
      config: missing,
      default: '/app/config/container.yaml',
    });
  });

  it('keeps the named file when it exists, or when it exists but cannot be read (no silent fallback)', () => {
    const file = join(dir, 'there.yaml');
    writeFileSync(file, TARGETS);
    const io = capture({ [DEFAULT_CONFIG_ENV]: '/app/config/container.yaml' });
    expect(configFileToRun(file, io)).toBe(file);
    const asDir = join(dir, 'a-directory.yaml');
    mkdirSync(asDir);
    expect(configFileToRun(asDir, io)).toBe(asDir);
    expect(io.stdout).toEqual([]);
  });

  it('without the variable a missing config stays an error (exit 1, cannot read)', async () => {
    const io = capture();
    expect(configFileToRun(missing, io)).toBe(missing);
    expect(await main(['run', '--config', missing], io)).toBe(1);
    expect(io.stderr).toEqual([`${missing}: cannot read: ENOENT`]);
    expect(io.stdout).toEqual([]);
  });

  it('check-config never falls back: it checks the file it is given', async () => {
    const io = capture({ [DEFAULT_CONFIG_ENV]: resolve('config/container.yaml') });
    expect(await main(['check-config', '--config', missing], io)).toBe(1);
    expect(io.stderr[0]).toBe(`${missing}: cannot read: ENOENT`);
  });

  it('the built binary runs the default, first line first, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const fallback = join(dir, 'default.yaml');
    writeFileSync(fallback, `server: { listen: "127.0.0.1:${port}" }\nstate: { dir: state }\n${TARGETS}`);
    const vw = new RunProcess(missing, { ...process.env, [DEFAULT_CONFIG_ENV]: fallback });
    try {
      await vw.started();
      const lines = vw.lines();
      expect(lines[0]!.msg).toBe(`no ${missing}: running the built-in default; mount your config at ${missing}`);
      expect(lines.find((l) => l.msg === 'vipwatch started')?.listen).toBe(`127.0.0.1:${port}`);
    } finally {
      vw.child.kill('SIGTERM');
    }
    expect((await vw.exited).code).toBe(0);
    expect(vw.stderr).toBe('');
  });
});

describe('state.dir: relative to the config file; without it VIPWATCH_STATE_DIR, else state beside the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-state-dir-'));
  const file = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('a relative state.dir is resolved against the config file directory, not the working directory', () => {
    const cfg = loadConfigFile(file('rel.yaml', `${TARGETS}state: { dir: ../elsewhere/state }\n`), { env: {} });
    expect(cfg.state.dir).toBe(resolve(dir, '../elsewhere/state'));
  });

  it('an absolute state.dir is kept, even with VIPWATCH_STATE_DIR set', () => {
    const cfg = loadConfigFile(file('abs.yaml', `${TARGETS}state: { dir: /srv/vipwatch }\n`), { env: { [STATE_DIR_ENV]: '/var/lib/vipwatch' } });
    expect(cfg.state.dir).toBe('/srv/vipwatch');
  });

  it('without state.dir: VIPWATCH_STATE_DIR when set, else state beside the config file', () => {
    const f = file('none.yaml', TARGETS);
    expect(loadConfigFile(f, { env: { [STATE_DIR_ENV]: '/var/lib/vipwatch' } }).state.dir).toBe('/var/lib/vipwatch');
    expect(loadConfigFile(f, { env: {} }).state.dir).toBe(join(dir, 'state'));
    expect(loadConfigFile(file('empty-state.yaml', `${TARGETS}state: {}\n`), { env: {} }).state.dir).toBe(join(dir, 'state'));
  });

  it('config/example.yaml keeps `npm start` state in ./state at the repository root; config/container.yaml in the volume', () => {
    expect(loadConfigFile('config/example.yaml', { env: {} }).state.dir).toBe(resolve('state'));
    const container = loadConfigFile('config/container.yaml', { env: {} });
    expect(container.state.dir).toBe('/var/lib/vipwatch');
    expect(container.server.listen).toMatchObject({ host: '0.0.0.0', port: 9464 });
  });
});
