import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { loadConfigFile, MAX_CONFIG_BYTES } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'vipwatch-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), env: {} };
}

describe('config size limit', () => {
  it('refuses a file over 8 MiB before parsing it', async () => {
    const file = join(dir, 'huge.yaml');
    // Unbalanced flow brackets: parsing this would take the YAML parser minutes and gigabytes.
    writeFileSync(file, '['.repeat(MAX_CONFIG_BYTES + 1));
    const io = capture();
    const t0 = performance.now();
    expect(await main(['check-config', '--config', file], io)).toBe(1);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(io.stderr).toEqual([
      `${file}: ${MAX_CONFIG_BYTES + 1} bytes: a config file may be at most 8 MiB (8388608 bytes); not parsed`,
      `${file}: 1 problem`,
    ]);
  });

  it('accepts a file of exactly 8 MiB', async () => {
    const file = join(dir, 'big.yaml');
    const head = 'targets: []\n#';
    writeFileSync(file, head + 'x'.repeat(MAX_CONFIG_BYTES - head.length - 1) + '\n');
    expect(statSync(file).size).toBe(MAX_CONFIG_BYTES);
    const io = capture();
    expect(await main(['check-config', '--config', file], io)).toBe(0);
    expect(io.stdout).toEqual([`${file}: ok (0 targets)`]);
  });
});

describe('YAML aliases', () => {
  it('one anchor reused by 2,000 targets is fine (the old alias-count limit of 100 crashed with exit 70)', () => {
    const file = join(dir, 'reuse.yaml');
    const targets = Array.from({ length: 2000 }, (_, i) => `  - { name: t${i}, address: 127.0.0.1, port: 80, protocol: http, http: *h }`);
    // The anchor sits on the first target (unknown keys are errors, so there is no spare key to hold it).
    const text = `targets:\n  - { name: t0, address: 127.0.0.1, port: 80, protocol: http, http: &h { path: /healthz, headers: { Host: web.example.test } } }\n${targets.slice(1).join('\n')}\n`;
    writeFileSync(file, text);
    const cfg = loadConfigFile(file, { env: {} });
    expect(cfg.targets).toHaveLength(2000);
    expect(cfg.targets[1999]!.http).toMatchObject({ path: '/healthz', headers: { Host: 'web.example.test' } });
  });
});

describe('the built binary on a YAML alias bomb', () => {
  const bin = 'bin/vipwatch.js';
  const built = 'dist/src/config/yaml-aliases.js';
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  for (const command of ['check-config', 'run']) {
    it(`${command}: a clear FILE:LINE:COL error and exit 1, no stack trace`, async () => {
      if (!existsSync(built)) throw new Error(`${built} is missing: run "npm run build" first (npm test does)`);
      const file = 'test/fixtures/config/invalid/alias-bomb.yaml';
      const r = await run([command, '--config', file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${file}:7:8: yaml: aliases expand to more than 1000000 values (an alias bomb?): write the values out\n`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stdout).toBe('');
    });
  }
});

describe('YAML nesting', () => {
  const cases: [string, string, string][] = [
    ['flow', 'targets: ' + '['.repeat(4_000_000), '1:110: yaml: nested more than 100 levels deep'],
    ['block on one line', 'targets:\n  ' + '- '.repeat(3_000_000) + 'x\n', '2:203: yaml: nested more than 100 levels deep'],
    ['flow mappings', 'a: ' + '{b: '.repeat(500) + '1' + '}'.repeat(500), '1:404: yaml: nested more than 100 levels deep'],
  ];
  for (const [name, text, problem] of cases) {
    it(`${name}: refused at once with its position, before the parser runs`, async () => {
      const file = join(dir, `deep-${name.replace(/ /g, '-')}.yaml`);
      writeFileSync(file, text);
      const io = capture();
      const t0 = performance.now();
      expect(await main(['check-config', '--config', file], io)).toBe(1);
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(io.stderr).toEqual([`${file}:${problem}`, `${file}: 1 problem`]);
    });
  }

  it('brackets and dashes inside quotes, comments and block scalars are not nesting', () => {
    const file = join(dir, 'not-deep.yaml');
    const many = '['.repeat(300);
    writeFileSync(file, `# ${many} ${'- '.repeat(300)}
targets:
  - name: web
    address: 127.0.0.1
    port: 80
    protocol: http
    http:
      bodyRegex: '${many}'
      headers: { X-A: "${'{'.repeat(300)}", X-B: "${'- '.repeat(300)}" }
  - name: tcp
    address: 127.0.0.1
    port: 81
    tcp:
      send: |
        ${many}
        ${'- '.repeat(300)}
      expectRegex: "x"
`);
    // The bodyRegex is an invalid regular expression, which proves it was decoded (and not refused as nesting).
    expect(() => loadConfigFile(file, { env: {} })).toThrow(/bodyRegex: invalid regular expression/);
  });
});
