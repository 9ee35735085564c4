/** Runs the outside tools the container test needs (buildah, debootstrap, ip, tar) and says clearly why one failed. */
import { execFile, type ExecFileOptions } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `cmd args` to its end; never throws for a non-zero exit (the caller decides), only when it cannot start. */
export function execTool(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const options: ExecFileOptions = { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' };
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], options, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      if (err && code === -1 && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`${cmd} is not installed`));
      if (err && (err as { killed?: boolean }).killed) return reject(new Error(`${cmd} ${args.join(' ')}: no end within ${options.timeout} ms`));
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Runs `cmd args` and returns its trimmed stdout; a non-zero exit throws with the command and the end of its stderr. */
export async function mustRun(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const r = await execTool(cmd, args, opts);
  if (r.code !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-15).join('\n');
    throw new Error(`\`${cmd} ${args.join(' ')}\` exited ${r.code}:\n${tail}`);
  }
  return r.stdout.trim();
}
