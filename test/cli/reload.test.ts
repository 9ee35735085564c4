import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/net-servers.js';
import { waitFor } from '../support/wait.js';
import { metricValue, RunProcess } from './run-process.js';

const OK = 'vipwatch_config_last_reload_successful';
const AT = 'vipwatch_config_last_reload_success_timestamp_seconds';

interface Api {
  targets: { name: string; attempts: unknown[] }[];
}

describe('vipwatch run: the config file reloads when it changes (the built binary)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** A config probing vipwatch's own /-/healthy as `self`, plus `extra` YAML lines under targets. */
  const configText = (port: number, dir: string, extra = '', top = '') => `${top}server: { listen: "127.0.0.1:${port}" }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
targets:
  - { name: self, address: 127.0.0.1, port: ${port}, protocol: http, interval: 200ms, timeout: 200ms, http: { path: /-/healthy } }
${extra}`;

  const start = async (file: string, port: number, opts: { noInotify?: boolean } = {}) => {
    const p = new RunProcess(file, process.env, opts);
    cleanup.push(() => p.kill());
    await p.started();
    const base = `http://127.0.0.1:${port}`;
    const metrics = async () => (await fetch(`${base}/metrics`)).text();
    const targets = async () => ((await (await fetch(`${base}/api/v1/targets`)).json()) as Api).targets;
    return { p, metrics, targets };
  };

  it('edited in place, touched, broken, replaced by rename, given a new server.listen: applied, ignored, refused, applied, warned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-reload-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const file = join(dir, 'vipwatch.yaml');
    writeFileSync(file, configText(port, dir));
    const { p, metrics, targets } = await start(file, port);

    // Set at start, as blackbox_exporter does.
    const m0 = await metrics();
    expect(metricValue(m0, OK)).toBe(1);
    const t0 = metricValue(m0, AT)!;
    expect(t0).toBeGreaterThan(Date.now() / 1000 - 60);

    // 1. Edited in place: a second target appears.
    writeFileSync(file, configText(port, dir, `  - { name: second, address: 127.0.0.1, port: ${port}, protocol: tcp, interval: 200ms, timeout: 200ms }\n`));
    await waitFor(async () => (await targets()).find((t) => t.name === 'second')?.attempts.length, { what: 'second target probed after an edit in place' });
    expect(p.find('config reloaded')).toEqual([expect.objectContaining({ cause: 'file change', targets: 2 })]);
    const m1 = await metrics();
    expect(metricValue(m1, OK)).toBe(1);
    expect(metricValue(m1, AT)!).toBeGreaterThan(t0);

    // 2. Touched: the content is the same, nothing is reloaded.
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    await new Promise((r) => setTimeout(r, 1200));
    expect(p.find('config reloaded')).toHaveLength(1);

    // 3. Broken: refused with FILE:LINE:COL problems, metric 0, both old targets still probed.
    writeFileSync(file, configText(port, dir, '  - { name: broken, address: 127.0.0.1, port: 0 }\n'));
    await waitFor(() => p.find('config reload rejected; the running config is unchanged').length, { what: 'reload refused' });
    const refused = p.find('config reload rejected; the running config is unchanged')[0]!;
    expect(refused).toMatchObject({ level: 'error', cause: 'file change' });
    expect(refused.problems).toEqual([`${file}:5:47: targets[1].port: must be >= 1, got 0`]);
    expect(metricValue(await metrics(), OK)).toBe(0);
    expect(metricValue(await metrics(), AT)).toBe(metricValue(m1, AT));
    const seen = (await targets()).find((t) => t.name === 'second')!.attempts.length;
    await waitFor(async () => (await targets()).find((t) => t.name === 'second')!.attempts.length > seen, { what: 'the old targets still probed' });
    expect((await targets()).map((t) => t.name).sort()).toEqual(['second', 'self']);

    // 4. Replaced by a rename (as editors and `mv` do): `second` goes, `third` comes, log.level debug applies live.
    writeFileSync(join(dir, '.vipwatch.yaml.tmp'), configText(port, dir, `  - { name: third, address: 127.0.0.1, port: ${port}, protocol: tcp, interval: 200ms, timeout: 200ms }\n`, 'log: { level: debug }\n'));
    renameSync(join(dir, '.vipwatch.yaml.tmp'), file);
    await waitFor(async () => (await targets()).find((t) => t.name === 'third')?.attempts.length, { what: 'third target probed after a rename swap' });
    expect((await targets()).map((t) => t.name).sort()).toEqual(['self', 'third']);
    expect(metricValue(await metrics(), OK)).toBe(1);
    await waitFor(() => p.lines().some((l) => l.level === 'debug' && l.msg === 'attempt'), { what: 'debug lines after log.level changed' });

    // 5. server.listen changed: the rest is applied, and a warning names the key that needs a restart.
    const other = await freePort();
    writeFileSync(file, configText(port, dir, '', 'log: { level: debug }\n').replace(`listen: "127.0.0.1:${port}"`, `listen: "127.0.0.1:${other}"`));
    await waitFor(() => p.find('server.listen changed', true).length, { what: 'restart warning' });
    expect(p.find('server.listen changed', true)).toEqual([expect.objectContaining({
      level: 'warn', msg: 'server.listen changed: restart vipwatch to apply it; the rest of the reload is applied', restartNeeded: ['server.listen'],
    })]);
    await waitFor(async () => (await targets()).length === 1, { what: 'third removed by the same reload' });
    expect(metricValue(await metrics(), OK)).toBe(1);

    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    expect(p.stderr).toBe('');
  });

  it('with no inotify instance to be had (EMFILE from the kernel), says so once and still reloads by checking the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-reload-poll-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const file = join(dir, 'vipwatch.yaml');
    writeFileSync(file, configText(port, dir));
    const { p, targets } = await start(file, port, { noInotify: true });
    const warning = 'cannot watch the config file for changes; checking it periodically instead';
    // The file is watched once the app has started: the warning comes after "vipwatch started".
    await waitFor(() => p.find(warning).length, { what: 'the polling warning' });
    expect(p.find(warning)).toEqual([expect.objectContaining({ level: 'warn', error: 'EMFILE', pollMs: 2000, file })]);

    writeFileSync(file, configText(port, dir, `  - { name: second, address: 127.0.0.1, port: ${port}, protocol: tcp, interval: 200ms, timeout: 200ms }\n`));
    await waitFor(async () => (await targets()).find((t) => t.name === 'second')?.attempts.length, { what: 'second target probed after the edit' });
    expect(p.find('config reloaded')).toEqual([expect.objectContaining({ cause: 'file change', targets: 2 })]);
    // The reload re-arms the watches, which the kernel refuses again: still one warning.
    expect(p.find(warning)).toHaveLength(1);

    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    expect(p.stderr).toBe('');
  });

  it('follows a Kubernetes ConfigMap volume: the ..data symlink swapped to a new directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-reload-cm-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const vol = join(dir, 'config');
    mkdirSync(join(vol, '..2026_01_01_v1'), { recursive: true });
    writeFileSync(join(vol, '..2026_01_01_v1', 'vipwatch.yaml'), configText(port, dir));
    symlinkSync('..2026_01_01_v1', join(vol, '..data'));
    symlinkSync('..data/vipwatch.yaml', join(vol, 'vipwatch.yaml'));
    const { p, targets } = await start(join(vol, 'vipwatch.yaml'), port);

    // What the kubelet does: a new timestamped directory, a new ..data link beside the old, renamed over it, the old removed.
    mkdirSync(join(vol, '..2026_01_01_v2'));
    writeFileSync(join(vol, '..2026_01_01_v2', 'vipwatch.yaml'), configText(port, dir, `  - { name: from-configmap, address: 127.0.0.1, port: ${port}, protocol: tcp, interval: 200ms, timeout: 200ms }\n`));
    symlinkSync('..2026_01_01_v2', join(vol, '..data_tmp'));
    renameSync(join(vol, '..data_tmp'), join(vol, '..data'));
    rmSync(join(vol, '..2026_01_01_v1'), { recursive: true });
    await waitFor(async () => (await targets()).find((t) => t.name === 'from-configmap')?.attempts.length, { what: 'the ConfigMap update applied' });
    expect(p.find('config reloaded')).toHaveLength(1);
    expect(p.find('config reload rejected; the running config is unchanged')).toEqual([]);

    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });
});
