/**
 * Incident persistence: one JSON file per incident in a directory, written atomically (temp file, fsync, rename,
 * fsync of the directory), so a crash (even kill -9) leaves either the old or the new record, never a torn one.
 * Leftover temp files are partial writes and are deleted on load; unreadable records are moved aside, never lost.
 */
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isTempFile, setAside, writeFileAtomic } from '../lib/atomic-file.js';
import { ERR } from '../lib/error-codes.js';
import { VipwatchError, errorMessage } from '../lib/errors.js';
import { KeyedQueue } from '../lib/keyed-queue.js';
import type { Logger } from '../lib/logger.js';
import type { Incident } from './types.js';
import { checkIncident, isIsoDate } from './validate.js';

export interface StoredIncident {
  incident: Incident;
  /** Epoch ms of the last open/update/reminder notification (reminders continue across restarts). */
  lastNotifiedAt: number;
}

interface FileV1 extends StoredIncident {
  version: 1;
}

/** Temp files of versions before the shared atomic writer (`.<name>.<pid>.<n>.tmp`): a crash may have left one. */
const LEGACY_TMP_SUFFIX = '.tmp';
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

export class IncidentStore {
  /** Writes of one id run in call order. */
  private readonly chains = new KeyedQueue();

  constructor(readonly dir: string, private readonly logger: Logger) {}

  /**
   * Reads every record; deletes partial temp files; moves unreadable files and records of the wrong shape aside
   * as `<name>.corrupt-<time>` (one error log each). A resolved record whose dates cannot be read is deleted: its
   * age is unknown, so it is pruned as if older than keepResolved rather than kept forever.
   */
  async loadAll(now: number): Promise<StoredIncident[]> {
    await mkdir(this.dir, { recursive: true });
    const out: StoredIncident[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      const path = join(this.dir, name);
      if (isTempFile(name) || name.endsWith(LEGACY_TMP_SUFFIX)) {
        // A temp file is only ever renamed when complete: any left over is a write cut short by a crash.
        await unlink(path).catch(() => {});
        this.logger.warn('removed a partial incident write left by a crash', { file: path });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(path, 'utf8'));
        out.push(parseRecord(raw, name));
      } catch (err) {
        if (isResolvedWithBadDate(raw, name)) {
          await unlink(path).catch(() => {});
          this.logger.warn('resolved incident record with an unreadable date pruned', { file: path, error: errorMessage(err) });
          continue;
        }
        const aside = await setAside(path, now);
        this.logger.error('unreadable incident record moved aside', { file: path, movedTo: aside, error: errorMessage(err) });
      }
    }
    return out;
  }

  /** Writes one record atomically; writes of the same id are serialized in call order. */
  async save(rec: StoredIncident): Promise<void> {
    const id = rec.incident.id;
    assertSafeId(id);
    return this.chains.run(id, () => this.writeAtomic(`${id}.json`, JSON.stringify({ version: 1, ...rec } satisfies FileV1, null, 2) + '\n'));
  }

  async remove(id: string): Promise<void> {
    assertSafeId(id);
    return this.chains.run(id, () => unlink(join(this.dir, `${id}.json`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    }));
  }

  private async writeAtomic(name: string, data: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, name), data);
  }
}

function assertSafeId(id: string): void {
  if (!SAFE_ID.test(id)) throw new VipwatchError(ERR.INCIDENT_ID, `unsafe incident id ${JSON.stringify(id)}`);
}

/** A record checked field by field; only a record named `<id>.json` is its incident's (save and remove use that name). */
function parseRecord(raw: unknown, name: string): StoredIncident {
  const r = raw as Partial<FileV1> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error('not a JSON object');
  if (r.version !== 1) throw new Error(`unsupported record version ${JSON.stringify(r.version)}`);
  const incident = checkIncident(r.incident);
  if (!SAFE_ID.test(incident.id) || name !== `${incident.id}.json`) throw new Error(`incident.id ${JSON.stringify(incident.id)} does not match the file name`);
  const lastNotifiedAt = r.lastNotifiedAt ?? Date.parse(incident.updatedAt);
  if (typeof lastNotifiedAt !== 'number' || !Number.isFinite(lastNotifiedAt) || lastNotifiedAt < 0) throw new Error('lastNotifiedAt: must be epoch milliseconds');
  return { incident, lastNotifiedAt };
}

/** A resolved record of this file whose resolvedAt or updatedAt is not a date (whatever else is wrong with it). */
function isResolvedWithBadDate(raw: unknown, name: string): boolean {
  const inc = (raw as { version?: unknown; incident?: Record<string, unknown> } | null)?.incident;
  if ((raw as { version?: unknown } | null)?.version !== 1 || typeof inc !== 'object' || inc === null) return false;
  if (inc.status !== 'resolved' || name !== `${String(inc.id)}.json`) return false;
  return !isIsoDate(inc.updatedAt) || (inc.resolvedAt !== null && !isIsoDate(inc.resolvedAt));
}
