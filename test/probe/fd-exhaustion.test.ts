/**
 * vipwatch's own fault is never the network's: a prober in a child process whose descriptor limit is lowered
 * (`ulimit -n 64`) opens sockets until it is out of descriptors, then probes healthy loopback targets. Every attempt
 * fails with EMFILE on vipwatch's side (tcp and http connect, and the resolver for a host name), and must be
 * `probe_error`, not `unreachable` (nor `dns`). Once the sockets are freed, the same targets answer.
 * Likewise out of ephemeral ports (EADDRNOTAVAIL, formerly `unreachable`), in a network namespace the test creates
 * with a range of 8 ports.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { needTools } from '../support/tools.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/probe/types.js';
import { httpServer, type TestServer } from '../support/net-servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface ChildOutput {
  hogs: number;
  hogError: string | null;
  starved: ProbeResult[];
  recovered: ProbeResult[];
}

function runStarved(port: number, targets: [string, string, number][]): Promise<ChildOutput> {
  // The limit applies to the child only (bash's ulimit, then exec): nothing else on the machine is starved.
  const cmd = `ulimit -n 64 && exec "${process.execPath}" --import ./test/support/net-ts-loader.mjs test/support/fd-exhaust-child.ts ${port} '${JSON.stringify(targets)}'`;
  return new Promise((resolve, reject) => {
    const c = spawn('bash', ['-c', cmd], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`child exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as ChildOutput);
      } catch (e) {
        reject(new Error(`bad child output ${JSON.stringify(out)}: ${String(e)} ${err}`));
      }
    });
  });
}

describe('out of file descriptors (ulimit -n 64 in a child process)', () => {
  let web: TestServer;
  let result: ChildOutput;

  beforeAll(async () => {
    web = await httpServer((_req, res) => res.end('ok'));
    result = await runStarved(web.port, [['tcp', '127.0.0.1', web.port], ['http', '127.0.0.1', web.port], ['tcp', 'localhost', web.port]]);
  }, 60_000);

  afterAll(async () => {
    await web?.close();
  });

  it('really ran out of descriptors: the hog sockets stopped at EMFILE', () => {
    expect(result.hogError).toBe('EMFILE');
    expect(result.hogs).toBeGreaterThan(10);
    expect(result.hogs).toBeLessThan(64);
  });

  it('classifies every starved attempt as probe_error with the real errno, not unreachable or dns', () => {
    expect(result.starved).toHaveLength(3);
    for (const r of result.starved) {
      expect(r).toMatchObject({ ok: false, reason: 'probe_error', errorCode: 'EMFILE' });
      expect(r.detail).toMatch(/^vipwatch's own resources: (connect EMFILE|getaddrinfo EMFILE|out of file descriptors \(EMFILE\) while resolving)/);
    }
    // glibc may report the starved lookup as EMFILE, or as ENOTFOUND/EBUSY (it depends on the machine's NSS modules):
    // either way vipwatch checks its own descriptors before it blames DNS.
    expect(result.starved[2]!.detail).toContain('localhost');
  });

  it('the same targets answer once the descriptors are free again', () => {
    expect(result.recovered.map((r) => r.ok)).toEqual([true, true, true]);
    expect(result.recovered[1]!.httpStatus).toBe(200);
  });
});

describe('out of ephemeral ports (a network namespace with net.ipv4.ip_local_port_range of 8 ports)', () => {
  const ns = `vwports-${process.pid}`;
  let skipReason: string | undefined;

  beforeAll(() => {
    if (process.getuid?.() !== 0) return void (skipReason = 'needs root to create a network namespace');
    const steps = [
      ['ip', 'netns', 'add', ns],
      ['ip', '-n', ns, 'link', 'set', 'lo', 'up'],
      // Per namespace: the host's own range is untouched.
      ['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=40000 40007'],
    ];
    for (const [cmd, ...args] of steps) {
      const r = spawnSync(cmd!, args, { encoding: 'utf8' });
      if (r.status !== 0) return void (skipReason = `${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
    }
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('a connect that finds no free local port is probe_error/EADDRNOTAVAIL, not unreachable', async (ctx) => {
    needTools('ephemeral port exhaustion test', { name: 'network namespace', ...(skipReason && { missing: skipReason }) }).require(ctx);
    const argv = ['netns', 'exec', ns, process.execPath, '--import', './test/support/net-ts-loader.mjs', 'test/support/fd-exhaust-child.ts', 'self:8080', JSON.stringify([['tcp', '127.0.0.1', 0], ['http', '127.0.0.1', 0]])];
    const { stdout } = await promisify(execFile)('ip', argv, { cwd: root, timeout: 60_000 });
    const result = JSON.parse(stdout) as ChildOutput;
    expect(result.hogError).toBe('EADDRNOTAVAIL');
    expect(result.hogs).toBeLessThanOrEqual(8);
    for (const r of result.starved) {
      expect(r).toMatchObject({ ok: false, reason: 'probe_error', errorCode: 'EADDRNOTAVAIL' });
      expect(r.detail).toContain('connect EADDRNOTAVAIL 127.0.0.1:8080');
    }
    // No recovery asserted: the freed ports sit in TIME_WAIT for a minute, exactly as they do in the field.
  }, 90_000);
});
