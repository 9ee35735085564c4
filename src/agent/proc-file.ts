import { readdirSync, readFileSync } from 'node:fs';
import { ERR, type ErrorCode } from '../lib/error-codes.js';
import { VipwatchError } from '../lib/errors.js';

/** A kernel file the agent could not use, with its path (AGENT_PROC_MISSING, _UNREADABLE or _MALFORMED). */
export class ProcFileError extends VipwatchError {
  constructor(code: ErrorCode, readonly path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ProcFileError';
  }
}

/**
 * A kernel file read as text; a missing or unreadable one becomes a ProcFileError. Synchronous on purpose: /proc is in
 * memory, so a read never waits on a disk, and it is 3-4x faster than fs/promises' trip through the thread pool
 * (measured: 1,000 sysctl files of 500 interfaces in 36-83 ms against 120-320 ms).
 */
export function readProcText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw procError(file, err);
  }
}

/** The names in a kernel directory, with the same errors as readProcText. */
export function listProcDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    throw procError(dir, err);
  }
}

/** A sysctl file's value: one non-negative integer on one line. */
export function parseSysctlInt(text: string, file: string): number {
  const m = /^\s*(\d{1,9})\s*$/.exec(text);
  if (!m) throw malformed(file, `expected one integer, got ${JSON.stringify(text.slice(0, 40))}`);
  return Number(m[1]);
}

export function malformed(file: string, why: string): ProcFileError {
  return new ProcFileError(ERR.AGENT_PROC_MALFORMED, file, `${file}: ${why}`);
}

/** Any failure at `path` as a ProcFileError (one already is stays as it is). */
export function procError(path: string, err: unknown): ProcFileError {
  if (err instanceof ProcFileError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ProcFileError(ERR.AGENT_PROC_MISSING, path, `${path} does not exist`, { cause: err });
  const why = code ?? (err instanceof Error ? err.message : String(err));
  return new ProcFileError(ERR.AGENT_PROC_UNREADABLE, path, `cannot read ${path}: ${why}`, { cause: err });
}
