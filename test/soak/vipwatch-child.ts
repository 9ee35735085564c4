/**
 * `vipwatch run` as a child process for the soak: its JSON log lines parsed as they arrive (per-attempt lines at debug
 * level kept as small records), its /-/healthy polled with a hard deadline, its RSS read from /proc, and its stop timed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface AttemptLine {
  target: string;
  /** The log line's time, epoch ms (the attempt finished and was counted then). */
  time: number;
  burst: boolean;
  ok: boolean;
}

export interface LogLine {
  time: string;
  level: string;
  msg: string;
  [k: string]: unknown;
}

export class VipwatchChild {
  readonly attempts: AttemptLine[] = [];
  /** Every line that is not a per-attempt line (state changes, errors, start and stop); the newest 10,000 at least. */
  readonly lines: LogLine[] = [];
  /** Lines that were not JSON (should stay empty). */
  readonly garbage: string[] = [];
  stderr = '';
  /** Set once the child has exited. */
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: number };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private readonly child: ChildProcess;

  constructor(configFile: string, cwd: string) {
    this.child = spawn(process.execPath, ['bin/vipwatch.js', 'run', '--config', configFile], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve((this.exit = { code, signal, at: Date.now() }))));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (this.stderr.length < 64 * 1024) this.stderr += d;
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
  }

  get pid(): number {
    return this.child.pid!;
  }

  private onLine(line: string): void {
    let o: LogLine;
    try {
      o = JSON.parse(line) as LogLine;
    } catch {
      if (this.garbage.length < 100) this.garbage.push(line);
      return;
    }
    if (o.msg === 'attempt') {
      this.attempts.push({ target: String(o.target), time: Date.parse(o.time), burst: o.burst === true, ok: o.ok === true });
    } else {
      this.lines.push(o);
      // Bounded, newest kept: a spinning child floods lines, and the newest say what it was doing.
      if (this.lines.length > 20_000) this.lines.splice(0, 10_000);
    }
  }

  /** VmRSS of the child in bytes, from /proc/PID/status. */
  rssBytes(): number {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    if (!m) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(m[1]) * 1024;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** Kills the child if it is still running (cleanup after a failed assertion). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export interface Poll {
  at: number;
  /** Milliseconds to the full answer; undefined when there was none within the deadline. */
  ms?: number;
  status?: number;
  error?: string;
}

/** One GET on a fresh connection (no keep-alive), aborted at the deadline. */
export function getOnce(url: string, deadlineMs: number): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, signal: AbortSignal.timeout(deadlineMs) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * Polls `url` every `everyMs` on a fixed cadence (a slow answer does not shift the next poll) until stopped; each poll
 * must answer within `deadlineMs`. `onPoll` runs after each one (the soak samples RSS there).
 */
export function pollEvery(url: string, everyMs: number, deadlineMs: number, onPoll: (p: Poll) => void): { polls: Poll[]; stop(): Promise<void> } {
  const polls: Poll[] = [];
  const first = Date.now();
  let n = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();
  const once = async () => {
    const at = Date.now();
    let p: Poll;
    try {
      const r = await getOnce(url, deadlineMs);
      p = { at, ms: r.ms, status: r.status };
    } catch (err) {
      p = { at, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
    polls.push(p);
    onPoll(p);
  };
  const next = () => {
    if (stopped) return;
    n++;
    timer = setTimeout(() => {
      start();
      next();
    }, Math.max(0, first + n * everyMs - Date.now()));
  };
  const start = () => {
    const p = once();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  start();
  next();
  return {
    polls,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await Promise.all(inFlight);
    },
  };
}
