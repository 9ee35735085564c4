import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiagnoseReport } from '../../src/cli/diagnose-report.js';
import { LAB } from './addresses.js';
import { LAB_SERVICE } from './cluster-objects.js';
import type { CommandResult } from './exec.js';
import { Lab } from './lab.js';
import { labPreconditions } from './preconditions.js';
import { LabServices } from './services-client.js';
import { repoRoot } from './vipwatch-process.js';

// The built `vipwatch diagnose` in the lab's client namespace, against the VIP, with the fake Kubernetes API: root only.
const { pre, labTools } = await labPreconditions('lab diagnose test');

/** Generous bound on one run (a shared 2-core machine); at the defaults a run takes 5-20 s. */
const RUN_WITHIN_MS = 120_000;

describe.skipIf(labTools.missing)('vipwatch diagnose on the lab cluster (real kernel)', () => {
  let lab: Lab;
  let services: LabServices | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-diagnose-lab-'));
  const kubeconfig = join(dir, 'kubeconfig');

  beforeAll(async () => {
    lab = new Lab({ iptables: pre.ok ? pre.iptables : undefined });
    await lab.setup();
    const token = randomBytes(16).toString('hex');
    services = await LabServices.start(lab, { token, webhookSecret: randomBytes(16).toString('hex') });
    // What a user points diagnose at: a kubeconfig for the (fake) API server, a bearer token.
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: lab',
      'clusters:', '  - name: lab', '    cluster:', `      server: ${services.ready.kubeApi}`,
      'users:', '  - name: reader', '    user:', `      token: ${token}`,
      'contexts:', '  - name: lab', '    context:', '      cluster: lab', '      user: reader',
    ].join('\n'), { mode: 0o600 });
  }, 120_000);

  afterAll(async () => {
    await services?.stop().catch(() => {});
    await lab?.teardown();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /**
   * The built CLI in the client namespace: `bin/vipwatch.js diagnose` once main.ts dispatches it, until then the built
   * diagnose command itself (the same code, called as main would call it).
   */
  function diagnoseArgv(args: string[]): string[] {
    const root = repoRoot();
    const main = readFileSync(join(root, 'dist', 'src', 'cli', 'main.js'), 'utf8');
    if (main.includes('diagnoseCommand')) return [process.execPath, join(root, 'bin', 'vipwatch.js'), 'diagnose', ...args];
    const mod = (p: string) => pathToFileURL(join(root, 'dist', 'src', 'cli', p)).href;
    const shim = `const [{ diagnoseCommand }, { processIo }] = await Promise.all([import(${JSON.stringify(mod('diagnose.js'))}), import(${JSON.stringify(mod('io.js'))})]);
process.exitCode = await diagnoseCommand(process.argv.slice(1), processIo);`;
    return [process.execPath, '--input-type=module', '-e', shim, ...args];
  }

  async function diagnose(...extra: string[]): Promise<CommandResult> {
    const args = [`${LAB.vip}:${LAB.vipPort}`, '--http', '/', '--backend-header', 'X-Node',
      '--service', `${LAB_SERVICE.namespace}/${LAB_SERVICE.name}`, '--kubeconfig', kubeconfig, ...extra];
    return lab.exec(lab.names.client, diagnoseArgv(args), { allowFail: true, timeoutMs: RUN_WITHIN_MS });
  }

  it('strict rp_filter on node-2: exit 1, asymmetric_routing naming node-2 and printing the sysctl fix; loose mode: exit 0', async () => {
    await lab.setRpFilter('node-2', 1);
    const broken = await diagnose('--count', '200');
    const why = `stdout:\n${broken.stdout}\nstderr:\n${broken.stderr}`;
    expect(broken.code, why).toBe(1);
    expect(broken.stdout, why).toMatch(/^Verdict: asymmetric_routing \(confidence /m);
    expect(broken.stdout, why).toMatch(/^ {2}Suspected node: node-2$/m);
    expect(broken.stdout).toContain('sysctl -w net.ipv4.conf.all.rp_filter=2');
    expect(broken.stdout).toMatch(/^ {2}connect_timeout +\d+$/m);
    // node-2 served nothing and carries the timeouts (inferred: a dropped SYN names no backend); node-1 is the announcer.
    expect(broken.stdout).toMatch(/^ {2}node-2 +1 +0 +(\d+) +0 +\1$/m);
    expect(broken.stdout).toMatch(/^ {2}node-1\* +1 +[1-9]\d* +0 /m);
    // The split becomes certain (p <= 1e-8) well before 200 attempts.
    const early = /stopped early after (\d+) of 200/.exec(broken.stdout);
    expect(early, why).not.toBeNull();
    process.stdout.write(`diagnose lab: strict rp_filter on node-2: certain after ${early![1]} attempts\n${broken.stdout}\n`);

    await lab.setRpFilter('node-2', 2);
    const fixed = await diagnose('--json');
    const doc = JSON.parse(fixed.stdout) as DiagnoseReport;
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(doc).toMatchObject({ verdict: 'healthy', exitCode: 0, failures: 0, suspectedNodes: [] });
    expect(doc.run).toMatchObject({ requested: 60, recorded: 60, stop: 'count' });
    // Every node serves again, as the responses name them.
    expect(doc.nodes.map((n) => n.node)).toEqual(['node-1', 'node-2', 'node-3']);
    for (const n of doc.nodes) expect(n.successes, n.node).toBeGreaterThan(0);
    process.stdout.write(`diagnose lab: loose mode: healthy, ${doc.run.recorded} attempts in ${doc.run.elapsedMs} ms\n`);
  }, 2 * RUN_WITHIN_MS + 30_000);
});
