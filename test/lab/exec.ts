import { execFile } from 'node:child_process';

/**
 * Errors of the lab with stable codes (LAB_COMMAND_FAILED, LAB_NOT_BUILT, LAB_BACKEND_NOT_READY, LAB_PROBE_FAILED,
 * LAB_BAD_ARGUMENT). Not a VipwatchError: those carry only vipwatch's own public codes (src/lib/error-codes.ts).
 */
export class LabError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
  }
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Return a non-zero exit instead of throwing. */
  readonly allowFail?: boolean;
  /** Kill the command after this long (default 20 s): `ip`/`iptables` never take that long unless something is wedged. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Runs argv without a shell (no quoting surprises) and collects its output. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new LabError('LAB_BAD_ARGUMENT', 'empty command'));
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 20_000, signal: opts.signal, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
        if (code !== 0 && !opts.allowFail) {
          const why = stderr.trim() || (err ? err.message : '');
          reject(new LabError('LAB_COMMAND_FAILED', `command failed (exit ${code}): ${argv.join(' ')}: ${why}`, { cause: err }));
          return;
        }
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** argv that runs a program inside a named network namespace (`ip netns exec` execs it, so the pid is the program's). */
export function inNetns(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}
