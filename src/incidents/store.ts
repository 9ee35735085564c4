/**
 * Incident persistence: one JSON file per incident in a directory, written atomically (temp file, fsync, rename,
 * fsync of the directory), so a crash (even kill -9) leaves either the old or the new record, never a torn one.
 * Leftover temp files are partial writes and are deleted on load; unreadable records are moved aside, never lost.
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { VipwatchError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { INCIDENT_KINDS, type Incident } from './types.js';

export interface StoredIncident {
  incident: Incident;
  /** Epoch ms of the last open/update/reminder notification (reminders continue across restarts). */
  lastNotifiedAt: number;
}

interface FileV1 extends StoredIncident {
  version: 1;
}

const TMP_SUFFIX = '.tmp';
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

export class IncidentStore {
  private readonly chains = new Map<string, Promise<void>>();
  private tmpCounter = 0;

  constructor(readonly dir: string, private readonly logger: Logger) {}

  /** Reads every record; deletes partial temp files; moves unreadable files aside as `<name>.corrupt-<time>`. */
  async loadAll(now: number): Promise<StoredIncident[]> {
    await mkdir(this.dir, { recursive: true });
    const out: StoredIncident[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      const path = join(this.dir, name);
      if (name.endsWith(TMP_SUFFIX)) {
        // A temp file is only ever renamed when complete: any left over is a write cut short by a crash.
        await unlink(path).catch(() => {});
        this.logger.warn('removed a partial incident write left by a crash', { file: path });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        out.push(parseRecord(await readFile(path, 'utf8')));
      } catch (err) {
        const aside = `${path}.corrupt-${now}`;
        await rename(path, aside).catch(() => {});
        this.logger.error('unreadable incident record moved aside', { file: path, movedTo: aside, error: errorMessage(err) });
      }
    }
    return out;
  }

  /** Writes one record atomically; writes of the same id are serialized in call order. */
  async save(rec: StoredIncident): Promise<void> {
    const id = rec.incident.id;
    assertSafeId(id);
    return this.serialize(id, () => this.writeAtomic(`${id}.json`, JSON.stringify({ version: 1, ...rec } satisfies FileV1, null, 2) + '\n'));
  }

  async remove(id: string): Promise<void> {
    assertSafeId(id);
    return this.serialize(id, () => unlink(join(this.dir, `${id}.json`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    }));
  }

  private serialize(id: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    const tail = next.catch(() => {});
    this.chains.set(id, tail);
    void tail.then(() => {
      if (this.chains.get(id) === tail) this.chains.delete(id);
    });
    return next;
  }

  private async writeAtomic(name: string, data: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const final = join(this.dir, name);
    const tmp = join(this.dir, `.${name}.${process.pid}.${++this.tmpCounter}${TMP_SUFFIX}`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
    // The rename is durable only once the directory entry is synced.
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

function assertSafeId(id: string): void {
  if (!SAFE_ID.test(id)) throw new VipwatchError('VIPWATCH_INCIDENT_ID', `unsafe incident id ${JSON.stringify(id)}`);
}

function parseRecord(text: string): StoredIncident {
  const raw = JSON.parse(text) as Partial<FileV1>;
  if (raw?.version !== 1) throw new Error(`unsupported record version ${JSON.stringify(raw?.version)}`);
  const inc = raw.incident as Incident | undefined;
  if (!inc || typeof inc.id !== 'string' || !SAFE_ID.test(inc.id) || typeof inc.target !== 'string') throw new Error('record without a valid incident id and target');
  if (inc.status !== 'open' && inc.status !== 'resolved') throw new Error(`invalid status ${JSON.stringify(inc.status)}`);
  if (!INCIDENT_KINDS.includes(inc.kind)) throw new Error(`invalid kind ${JSON.stringify(inc.kind)}`);
  if (typeof inc.startedAt !== 'string' || Number.isNaN(Date.parse(inc.startedAt))) throw new Error('invalid startedAt');
  return { incident: inc, lastNotifiedAt: typeof raw.lastNotifiedAt === 'number' ? raw.lastNotifiedAt : Date.parse(inc.updatedAt) || 0 };
}
