import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LabError } from './exec.js';
import type { Lab } from './lab.js';

/** One JSON log line of vipwatch (time, level, msg and its fields). */
export interface VipwatchLog {
  time: string;
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** The checkout this file belongs to, whether it runs from test/lab (vitest) or dist/test/lab (the demo). */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/test/lab -> three levels up; test/lab -> two.
  return resolve(here, basename(dirname(dirname(here))) === 'dist' ? '../../..' : '../..');
}

/**
 * The real `vipwatch run` (bin/vipwatch.js, built code) started in the lab's client namespace. Keeps its JSON log
 * lines and its stderr; stop() ends it the way an operator does (SIGTERM), and the lab kills it on teardown anyway.
 */
export class VipwatchProcess {
  readonly logs: VipwatchLog[] = [];
  /** Lines that were not JSON (stderr, crash traces). */
  readonly otherOutput: string[] = [];
  private readonly listeners: ((l: VipwatchLog) => void)[] = [];
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly closed: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    const take = (stream: NodeJS.ReadableStream, isErr: boolean) => {
      createInterface({ input: stream }).on('line', (line) => {
        const entry = isErr ? undefined : parseLog(line);
        if (!entry) {
          if (line.trim()) this.otherOutput.push(line);
          return;
        }
        this.logs.push(entry);
        for (const l of this.listeners) l(entry);
      });
    };
    take(child.stdout!, false);
    take(child.stderr!, true);
    this.closed = new Promise((r) => child.once('close', (code, signal) => {
      this.exit = { code, signal };
      r();
    }));
  }

  static start(lab: Lab, configFile: string): VipwatchProcess {
    const bin = join(repoRoot(), 'bin', 'vipwatch.js');
    const main = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
    if (!existsSync(main)) throw new LabError('LAB_NOT_BUILT', `${main} is missing: run \`npm run build\` first`);
    const child = lab.spawnIn(lab.names.client, [process.execPath, bin, 'run', '--config', configFile]);
    return new VipwatchProcess(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** undefined while it runs. */
  get exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exit;
  }

  onLog(fn: (l: VipwatchLog) => void): void {
    this.listeners.push(fn);
  }

  /** The last lines of output, for failure messages. */
  tail(n = 15): string {
    const lines = [...this.logs.slice(-n).map((l) => JSON.stringify(l)), ...this.otherOutput.slice(-n)];
    return lines.join('\n');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.closed;
    clearTimeout(force);
  }

  /** Resolves when it exits (for tests of a crash). */
  whenExited(): Promise<void> {
    return this.closed;
  }
}

function parseLog(line: string): VipwatchLog | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as VipwatchLog;
    return typeof v.msg === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
