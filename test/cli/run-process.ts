/** `vipwatch run` as a child process (the built bin/vipwatch.js: `npm run build` first), with its log lines parsed. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export class RunProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; at: number }>;

  constructor(configFile: string, env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, ['bin/vipwatch.js', 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r({ code, at: Date.now() })));
  }

  /** Every complete JSON log line so far. */
  lines(): LogLine[] {
    return this.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  }

  /** Lines with this message (exact, or by prefix when `prefix`). */
  find(msg: string, prefix = false): LogLine[] {
    return this.lines().filter((l) => (prefix ? l.msg.startsWith(msg) : l.msg === msg));
  }

  /** Resolves once it logged "vipwatch started"; fails with its stderr when it exits or does not get there. */
  async started(): Promise<void> {
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (const deadline = Date.now() + 20_000; !this.lines().some((l) => l.msg === 'vipwatch started');) {
      if (exited || Date.now() > deadline) throw new Error(`vipwatch did not start (${exited ? 'exited' : 'timed out'}); stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends the child if it still runs (test cleanup). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** A gauge's value from a /metrics exposition (first sample of that name), or undefined. */
export function metricValue(exposition: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(exposition);
  return m ? Number(m[1]) : undefined;
}
