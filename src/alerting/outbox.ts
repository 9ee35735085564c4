import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncidentEventType } from '../incidents/types.js';
import { checkIncident, ShapeError } from '../incidents/validate.js';
import { ERR } from '../lib/error-codes.js';
import { VipwatchError, errorMessage } from '../lib/errors.js';
import { isTempFile, setAside, writeFileAtomic } from '../lib/atomic-file.js';
import type { Notification } from './notification.js';

const ENTRY = /^(\d{16})-([A-Za-z0-9-]+)\.json$/;

export interface LoadedOutbox {
  entries: Notification[];
  /** Files that could not be read as a notification; renamed to `*.corrupt-<now>` and kept for a human. */
  corrupt: string[];
  /** Why each of `corrupt` (same order) was set aside. */
  errors: string[];
}

/**
 * The durable queue of one sink: one file per notification in `<state.dir>/outbox/<sink>/`, named by queue
 * order, written atomically before any send and removed only after the receiver accepted it.
 */
export class OutboxStore {
  private made?: Promise<unknown>;
  constructor(readonly dir: string) {}

  /** Creates the folder once; notify() may run before start(). */
  async init(): Promise<void> {
    this.made ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.made.catch((err: unknown) => {
      this.made = undefined;
      throw err;
    });
  }

  fileOf(n: Notification): string {
    return join(this.dir, `${String(n.seq).padStart(16, '0')}-${n.id}.json`);
  }

  async put(n: Notification): Promise<void> {
    try {
      await this.init();
      await writeFileAtomic(this.fileOf(n), JSON.stringify(n));
    } catch (err) {
      throw new VipwatchError(ERR.OUTBOX_WRITE, `cannot write ${this.fileOf(n)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }

  async remove(n: Notification): Promise<void> {
    try {
      await unlink(this.fileOf(n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Pending entries in queue order. Temp files are writes that never completed (their notify never returned): removed. */
  async load(now: number): Promise<LoadedOutbox> {
    const names = (await readdir(this.dir)).sort();
    const entries: Notification[] = [];
    const corrupt: string[] = [];
    const errors: string[] = [];
    for (const name of names) {
      const file = join(this.dir, name);
      if (isTempFile(name)) {
        await unlink(file).catch(() => {});
        continue;
      }
      if (!ENTRY.test(name)) continue;
      try {
        const n = checkNotification(JSON.parse(await readFile(file, 'utf8')));
        if (this.fileOf(n) !== file) throw new Error(`id ${JSON.stringify(n.id)} and seq ${n.seq} do not match the file name`);
        entries.push(n);
      } catch (err) {
        // Never enqueued: a record of the wrong shape would fail at every send until alerting.maxAge.
        corrupt.push(await setAside(file, now));
        errors.push(errorMessage(err));
      }
    }
    return { entries, corrupt, errors };
  }
}

const EVENTS: readonly IncidentEventType[] = ['open', 'update', 'reminder', 'resolved'];

/** A notification read back from disk, checked field by field (the incident against its public contract); a clean copy. */
export function checkNotification(raw: unknown): Notification {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ShapeError('(entry)', 'an object', raw);
  const o = raw as Record<string, unknown>;
  if (typeof o.id !== 'string' || !/^[A-Za-z0-9-]+$/.test(o.id)) throw new ShapeError('id', 'letters, digits and "-"', o.id);
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 0) throw new ShapeError('seq', 'a non-negative integer', o.seq);
  if (!EVENTS.includes(o.event as IncidentEventType)) throw new ShapeError('event', `one of ${EVENTS.join(', ')}`, o.event);
  for (const k of ['at', 'queuedAt'] as const) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || o[k] < 0) throw new ShapeError(k, 'epoch milliseconds', o[k]);
  }
  if (typeof o.instance !== 'string') throw new ShapeError('instance', 'a string', o.instance);
  if (o.test !== undefined && typeof o.test !== 'boolean') throw new ShapeError('test', 'true or false', o.test);
  const n: Notification = {
    id: o.id, seq: o.seq, event: o.event as IncidentEventType, at: o.at as number, queuedAt: o.queuedAt as number,
    instance: o.instance, incident: checkIncident(o.incident),
  };
  if (o.test) n.test = true;
  return n;
}
