/** Builds the repository's own Dockerfile with buildah, as `docker build --build-arg NODE_IMAGE=...` would. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildah } from './buildah.js';

export const REPO = join(import.meta.dirname, '..', '..');

export interface DockerfileBase {
  /** The default of ARG NODE_IMAGE, e.g. node:24-bookworm-slim. */
  image: string;
  nodeMajor: number;
  /** The Debian suite in the tag, e.g. bookworm. */
  suite: string;
}

/** Pure: what the Dockerfile's `ARG NODE_IMAGE=node:<major>-<suite>-slim` default says. */
export function parseDockerfileBase(text: string): DockerfileBase {
  const m = /^ARG\s+NODE_IMAGE=(node:(\d+)-([a-z]+)(?:-slim)?)\s*$/m.exec(text);
  if (!m) throw new Error('the Dockerfile has no `ARG NODE_IMAGE=node:<major>-<suite>[-slim]` default');
  return { image: m[1]!, nodeMajor: Number(m[2]), suite: m[3]! };
}

export function dockerfileBase(): DockerfileBase {
  return parseDockerfileBase(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
}

export interface BuiltImage {
  name: string;
  id: string;
}

/**
 * `buildah bud` of REPO's Dockerfile on `baseImage`. Docker format, since the OCI format has no HEALTHCHECK; one layer
 * per stage (no --layers), so vfs copies the root once per stage rather than once per instruction.
 */
export async function buildImage(baseImage: string, name = 'localhost/vipwatch:test'): Promise<BuiltImage> {
  await buildah([
    'bud', '--isolation', 'chroot', '--format', 'docker', '--quiet',
    '--build-arg', `NODE_IMAGE=${baseImage}`, '--tag', name, '--file', join(REPO, 'Dockerfile'), REPO,
  ], { timeoutMs: 1_200_000 });
  const id = await buildah(['inspect', '--type', 'image', '--format', '{{.FromImageID}}', name]);
  // The image this tag had before is dangling now: drop it (and any stage image left behind) so the store stays small.
  await buildah(['rmi', '--prune']).catch(() => {});
  return { name, id };
}
