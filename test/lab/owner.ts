import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Which process owns a lab prefix. Written before the first namespace is created, so a stale-cleanup in a parallel run can
 * tell a live lab (leave it) from a crashed one (remove it). The start time guards against a recycled pid.
 */
export interface LabOwner {
  readonly pid: number;
  readonly startTicks: string;
}

export const OWNER_DIR = '/run/vipwatch-lab';

function ownerFile(prefix: string): string {
  return join(OWNER_DIR, `${prefix}.json`);
}

/** Field 22 of /proc/PID/stat: the process start time in clock ticks since boot; '' when the process is gone. */
export function processStartTicks(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after the last ')' are plain.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return '';
  }
}

export function writeOwner(prefix: string, pid = process.pid): void {
  mkdirSync(OWNER_DIR, { recursive: true });
  const owner: LabOwner = { pid, startTicks: processStartTicks(pid) };
  writeFileSync(ownerFile(prefix), JSON.stringify(owner));
}

export function readOwner(prefix: string): LabOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(ownerFile(prefix), 'utf8')) as LabOwner;
    return typeof o.pid === 'number' && typeof o.startTicks === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

export function removeOwner(prefix: string): void {
  rmSync(ownerFile(prefix), { force: true });
}

/** True when the recorded owner still runs (same pid and same start time). */
export function ownerAlive(o: LabOwner | undefined): boolean {
  if (!o) return false;
  const ticks = processStartTicks(o.pid);
  return ticks !== '' && ticks === o.startTicks;
}
