import { statSync } from 'node:fs';
import { ENV } from '../lib/env-names.js';
import { createLogger } from '../lib/logger.js';
import type { CliIo } from './io.js';

/**
 * The environment variable naming a built-in config for `run` when the --config file does not exist. The image sets
 * it to /app/config/container.yaml, so `docker run IMAGE` with nothing mounted at /config/vipwatch.yaml still starts
 * (listening on 0.0.0.0:9464, state in /var/lib/vipwatch) and says what to mount. Unset (outside the image), a
 * missing config stays an error.
 */
export const DEFAULT_CONFIG_ENV = ENV.DEFAULT_CONFIG;

/**
 * The file `run` loads: `file` itself, or, only when `file` does not exist (ENOENT: an unreadable or broken file is
 * still reported as such) and VIPWATCH_DEFAULT_CONFIG is set, that default, after a first log line saying what
 * to mount.
 */
export function configFileToRun(file: string, io: CliIo): string {
  const fallback = io.env[DEFAULT_CONFIG_ENV];
  if (!fallback || !isMissing(file)) return file;
  createLogger({ write: io.out }).warn(
    `no ${file}: running the built-in default; mount your config at ${file}`,
    { config: file, default: fallback, env: DEFAULT_CONFIG_ENV },
  );
  return fallback;
}

function isMissing(file: string): boolean {
  try {
    statSync(file);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
