/**
 * Crash-safe files, one naming for every store: a write goes to `.tmp-<name>.<random>` in the same folder, is
 * fsynced, renamed over `<name>`, and the folder is fsynced (so the rename itself survives power loss); after a
 * crash at any moment the file holds the old content or the new, never a part. A file that cannot be read is set
 * aside as `<name>.corrupt-<epoch ms>` (never overwriting an earlier one), kept for a human.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const TMP_PREFIX = '.tmp-';

/** A temp file of writeFileAtomic: only ever renamed when complete, so one left over is a write cut short by a crash. */
export function isTempFile(name: string): boolean {
  return name.startsWith(TMP_PREFIX);
}

/** The name `setAside` gives an unreadable file at `now`. */
export function corruptName(file: string, now: number): string {
  return `${file}.corrupt-${now}`;
}

/** Moves an unreadable file aside (see corruptName); a failed rename is ignored (the file stays). Returns the new path. */
export async function setAside(file: string, now: number): Promise<string> {
  const aside = corruptName(file, now);
  await rename(file, aside).catch(() => {});
  return aside;
}

export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = join(dirname(file), `${TMP_PREFIX}${basename(file)}.${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
