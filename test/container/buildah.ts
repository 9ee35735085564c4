/**
 * buildah as the container test uses it: vfs storage (no overlay or fuse here) in a store of the test's own under
 * the cache directory, so it never touches another user's images, and chroot isolation (no runtime needed).
 */
import { join } from 'node:path';
import { mustRun, type ExecOptions } from './exec.js';

/** Downloads, the Debian root and the image store live here between runs (VIPWATCH_CONTAINER_CACHE overrides it). */
export const CACHE_DIR = process.env.VIPWATCH_CONTAINER_CACHE || '/var/cache/vipwatch-test';

const GLOBAL = ['--root', join(CACHE_DIR, 'containers'), '--runroot', '/run/vipwatch-test-containers', '--storage-driver', 'vfs'];

/** `buildah <global flags> args`, trimmed stdout; throws with its stderr on failure. */
export function buildah(args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  return mustRun('buildah', [...GLOBAL, ...args], opts);
}

/** True when the store holds `image` (a name or an id). */
export async function imageExists(image: string): Promise<boolean> {
  try {
    await buildah(['inspect', '--type', 'image', '--format', '{{.FromImageID}}', image]);
    return true;
  } catch {
    return false;
  }
}
