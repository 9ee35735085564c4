/**
 * vipwatch's own fault is never the network's: a prober in a child process whose descriptor limit is lowered
 * (`ulimit -n 64`) opens sockets until it is out of descriptors, then probes healthy loopback targets. Every attempt
 * fails with EMFILE on vipwatch's side (tcp and http connect, and the resolver for a host name), and must be
 * `probe_error`, not `unreachable` (nor `dns`). Once the sockets are freed, the same targets answer.
 */
import { spawn } from 'node:child_process';
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
      expect(r.detail).toMatch(/^vipwatch's own resources: (connect|getaddrinfo) EMFILE/);
    }
    expect(result.starved[2]!.detail).toContain('getaddrinfo EMFILE localhost');
  });

  it('the same targets answer once the descriptors are free again', () => {
    expect(result.recovered.map((r) => r.ok)).toEqual([true, true, true]);
    expect(result.recovered[1]!.httpStatus).toBe(200);
  });
});
