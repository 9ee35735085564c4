import { ConfigError } from '../../src/lib/errors.js';

/** The problems a load refused the config with, without the file name prefix; fails when it loaded. */
export function problemsOf(load: () => unknown, file: string): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.replace(`${file}:`, ''));
    throw err;
  }
  throw new Error('expected a ConfigError');
}
