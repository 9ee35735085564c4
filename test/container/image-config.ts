/** The parts of an image's config a `docker run` uses, read with `buildah inspect`. */
import { buildah } from './buildah.js';

export interface ImageConfig {
  user: string;
  env: string[];
  workingDir: string;
  entrypoint: string[];
  cmd: string[];
  volumes: string[];
  exposedPorts: string[];
  /** The HEALTHCHECK's argv (CMD form as is; CMD-SHELL as /bin/sh -c), undefined when the image has none. */
  healthcheck?: string[];
  healthcheckTimeoutNs?: number;
}

interface DockerConfig {
  User?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, unknown> | null;
  ExposedPorts?: Record<string, unknown> | null;
  Healthcheck?: { Test?: string[]; Timeout?: number } | null;
}

/** Pure: the Docker-format config (the `Docker.config` of `buildah inspect`) as a run uses it. */
export function imageConfigOf(c: DockerConfig): ImageConfig {
  const test = c.Healthcheck?.Test ?? [];
  const healthcheck = test[0] === 'CMD' ? test.slice(1) : test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test[1] ?? ''] : undefined;
  return {
    user: c.User ?? '',
    env: c.Env ?? [],
    workingDir: c.WorkingDir || '/',
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    volumes: Object.keys(c.Volumes ?? {}).sort(),
    exposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
    healthcheck,
    healthcheckTimeoutNs: c.Healthcheck?.Timeout,
  };
}

export async function imageConfig(image: string): Promise<ImageConfig> {
  const json = JSON.parse(await buildah(['inspect', '--type', 'image', image])) as { Docker?: { config?: DockerConfig } };
  if (!json.Docker?.config) throw new Error(`${image} has no Docker-format config (built with --format oci?)`);
  return imageConfigOf(json.Docker.config);
}
