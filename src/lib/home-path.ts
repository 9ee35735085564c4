import { join } from 'node:path';

/**
 * Expands "~" and a leading "~/" from HOME, as a shell does (no "~user"); any other path is returned as is. Throws
 * when the path needs HOME and it is not set.
 */
export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path !== '~' && !path.startsWith('~/')) return path;
  const home = env.HOME;
  if (!home) throw new Error(`${path} starts with "~" but HOME is not set`);
  return path === '~' ? home : join(home, path.slice(2));
}
