import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';
import { freePort } from './net-servers.js';

/** Debian's package (apt-get install prometheus-alertmanager). */
export const ALERTMANAGER_BIN = process.env.VIPWATCH_ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';

export function alertmanagerAvailable(): boolean {
  return existsSync(ALERTMANAGER_BIN);
}

/** An alert as GET /api/v2/alerts returns it (the fields tests read). */
export interface AmApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  fingerprint: string;
  status: { state: string };
}

/** A real Alertmanager on 127.0.0.1 with a temp config and storage, routing everything to `webhookUrl` (send_resolved). */
export class RunningAlertmanager {
  private constructor(readonly url: string, private readonly child: ChildProcess, private readonly dir: string, readonly output: string[]) {}

  static async start(opts: { webhookUrl: string }): Promise<RunningAlertmanager> {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-am-'));
    const port = await freePort();
    const config = `global:
  resolve_timeout: 5m
route:
  receiver: vipwatch-test
  group_by: [alertname, target, vipwatch_instance]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: vipwatch-test
    webhook_configs:
      - url: ${opts.webhookUrl}
        send_resolved: true
`;
    writeFileSync(join(dir, 'alertmanager.yml'), config);
    const output: string[] = [];
    const child = spawn(ALERTMANAGER_BIN, [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No cluster: no gossip port, no peers.
      '--cluster.listen-address=',
      '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    const am = new RunningAlertmanager(`http://127.0.0.1:${port}`, child, dir, output);
    try {
      await waitFor(async () => child.exitCode === null && (await fetch(`${am.url}/-/ready`)).ok, { what: `alertmanager ready on ${am.url}`, timeoutMs: 30_000 });
    } catch (err) {
      await am.close();
      throw new Error(`${(err as Error).message}\n${output.join('')}`);
    }
    return am;
  }

  /** Active (not yet resolved) alerts: Alertmanager's API leaves out alerts whose endsAt has passed. */
  async alerts(): Promise<AmApiAlert[]> {
    const res = await fetch(`${this.url}/api/v2/alerts`);
    if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status}`);
    return (await res.json()) as AmApiAlert[];
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

