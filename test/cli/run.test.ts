import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { freePort } from '../support/net-servers.js';

describe('vipwatch run (the built binary)', () => {
  it('starts, probes, logs JSON state changes, reloads on SIGHUP and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-cli-'));
    const port = await freePort();
    const file = join(dir, 'vipwatch.yaml');
    const write = (extra: string) => writeFileSync(file, `server: { listen: "127.0.0.1:${port}" }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
targets:
  - { name: self, address: 127.0.0.1, port: ${port}, protocol: http, interval: 200ms, timeout: 200ms, http: { path: /-/healthy } }
${extra}`);
    write('');
    const child = spawn(process.execPath, ['bin/vipwatch.js', 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(() => stdout.includes('"target status changed"') && stdout.includes('"to":"healthy"'), { what: `healthy log line; stderr: ${stderr}` });
      const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l.msg === 'target added')).toMatchObject({ level: 'info', target: 'self' });
      expect(lines.find((l) => l.msg === 'vipwatch started')).toMatchObject({ listen: `127.0.0.1:${port}` });
      // One line per state change, not per attempt.
      await new Promise((r) => setTimeout(r, 600));
      expect(stdout.trim().split('\n').filter((l) => l.includes('"target status changed"')).length).toBe(1);

      write('  - { name: bad, address: 127.0.0.1, port: 0 }\n');
      child.kill('SIGHUP');
      await waitFor(() => stdout.includes('config reload rejected'), { what: 'reload rejection' });
      expect(stdout).toContain('targets[1].port: must be >= 1, got 0');

      write(`  - { name: second, address: 127.0.0.1, port: ${port}, protocol: tcp, interval: 200ms, timeout: 200ms }\n`);
      child.kill('SIGHUP');
      await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/targets`);
        const body = (await res.json()) as { targets: { name: string; attempts: unknown[] }[] };
        return body.targets.find((t) => t.name === 'second')?.attempts.length;
      }, { what: 'second target probed after reload' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('"vipwatch stopped"');
  });

  it('check-config exits 1 and lists problems on stderr', async () => {
    const child = spawn(process.execPath, ['bin/vipwatch.js', 'check-config', '--config', 'test/fixtures/config/invalid/many-problems.yaml'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(6);
  });
});
