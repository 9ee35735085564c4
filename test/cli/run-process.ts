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

  /**
   * `noInotify`: in a user namespace of its own whose inotify instance limit is 0, so the real kernel refuses its every
   * watch (EMFILE) as when the user's instances are used up, without taking any from other processes.
   */
  constructor(configFile: string, env: NodeJS.ProcessEnv = process.env, opts: { noInotify?: boolean } = {}) {
    const args = ['bin/vipwatch.js', 'run', '--config', configFile];
    this.child = opts.noInotify
      ? spawn('unshare', ['--user', '--map-root-user', 'sh', '-c', 'echo 0 > /proc/sys/user/max_inotify_instances && exec "$0" "$@"', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
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
