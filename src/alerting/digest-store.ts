import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isTempFile, setAside, writeFileAtomic } from '../lib/atomic-file.js';
import { ERR } from '../lib/error-codes.js';
import { errorMessage, VipwatchError } from '../lib/errors.js';
import type { Digest } from './digest.js';

/** A digest waiting for one sink. */
export interface PendingDigest {
  /** Epoch ms it was made (alerting.maxAge counts from here). */
  queuedAt: number;
  digest: Digest;
}

const ENTRY = /^(digest-[A-Za-z0-9-]+)\.json$/;

/**
 * Digests not yet accepted by one sink: `<state.dir>/digest/<sink>/<digest id>.json`, written atomically before the
 * first send and removed once the receiver accepted it, so a restart sends what a crash left pending (same id).
 */
export class DigestStore {
  constructor(readonly dir: string) {}

  fileOf(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  async put(p: PendingDigest): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.fileOf(p.digest.id), JSON.stringify(p));
    } catch (err) {
      throw new VipwatchError(ERR.DIGEST_WRITE, `cannot write ${this.fileOf(p.digest.id)}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, { cause: err });
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await unlink(this.fileOf(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Pending digests, oldest first; files that do not read back as one are set aside (`*.corrupt-<now>`) and named. */
  async load(now: number): Promise<{ entries: PendingDigest[]; corrupt: { file: string; error: string }[] }> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], corrupt: [] };
      throw err;
    }
    const entries: PendingDigest[] = [];
    const corrupt: { file: string; error: string }[] = [];
    for (const name of names) {
      const file = join(this.dir, name);
      if (isTempFile(name)) {
        await unlink(file).catch(() => {});
        continue;
      }
      const m = ENTRY.exec(name);
      if (!m) continue;
      try {
        entries.push(checkPending(JSON.parse(await readFile(file, 'utf8')), m[1]!));
      } catch (err) {
        corrupt.push({ file: await setAside(file, now), error: errorMessage(err) });
      }
    }
    return { entries: entries.sort((a, b) => a.queuedAt - b.queuedAt), corrupt };
  }
}

/** Enough of the shape for the renderers and the webhook body not to fail at every send until maxAge. */
function checkPending(raw: unknown, id: string): PendingDigest {
  const o = raw as { queuedAt?: unknown; digest?: Record<string, unknown> } | null;
  const d = o?.digest;
  if (typeof o?.queuedAt !== 'number' || !Number.isFinite(o.queuedAt)) throw new Error('queuedAt: not epoch milliseconds');
  if (typeof d !== 'object' || d === null) throw new Error('digest: not an object');
  if (d.id !== id) throw new Error(`digest.id ${JSON.stringify(d.id)} does not match the file name`);
  for (const k of ['instance', 'date', 'timezone', 'from', 'to'] as const) if (typeof d[k] !== 'string') throw new Error(`digest.${k}: not a string`);
  for (const k of ['targets', 'incidents'] as const) if (!Array.isArray(d[k])) throw new Error(`digest.${k}: not a list`);
  if (typeof d.totals !== 'object' || d.totals === null) throw new Error('digest.totals: not an object');
  return { queuedAt: o.queuedAt, digest: d as unknown as Digest };
}
