import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { VipwatchError } from '../lib/errors.js';
import { TMP_PREFIX, writeFileAtomic } from './atomic-file.js';
import type { Notification } from './notification.js';

const ENTRY = /^(\d{16})-([A-Za-z0-9-]+)\.json$/;

export interface LoadedOutbox {
  entries: Notification[];
  /** Files that could not be read as a notification; renamed to `*.corrupt` and kept for a human. */
  corrupt: string[];
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
      throw new VipwatchError('VIPWATCH_OUTBOX_WRITE', `cannot write ${this.fileOf(n)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
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
  async load(): Promise<LoadedOutbox> {
    const names = (await readdir(this.dir)).sort();
    const entries: Notification[] = [];
    const corrupt: string[] = [];
    for (const name of names) {
      const file = join(this.dir, name);
      if (name.startsWith(TMP_PREFIX)) {
        await unlink(file).catch(() => {});
        continue;
      }
      if (!ENTRY.test(name)) continue;
      try {
        const n = JSON.parse(await readFile(file, 'utf8')) as Notification;
        if (!isNotification(n) || this.fileOf(n) !== file) throw new Error('not a notification entry');
        entries.push(n);
      } catch {
        await rename(file, `${file}.corrupt`).catch(() => {});
        corrupt.push(`${file}.corrupt`);
      }
    }
    return { entries, corrupt };
  }
}

function isNotification(n: unknown): n is Notification {
  const x = n as Partial<Notification> | null;
  return !!x && typeof x.id === 'string' && typeof x.seq === 'number' && typeof x.event === 'string' && typeof x.queuedAt === 'number'
    && typeof x.incident === 'object' && x.incident !== null && typeof x.incident.id === 'string';
}
