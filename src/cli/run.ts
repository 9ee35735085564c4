import { kubernetesFileProblems } from '../cluster/resolve-connection.js';
import { loadConfigFile, type LoadOptions } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { EXIT, type CliIo } from './io.js';

/** `vipwatch run`: long-running; SIGINT/SIGTERM stop it cleanly, SIGHUP reloads the config (all or nothing). */
export async function runCommand(file: string, io: CliIo, signal?: AbortSignal): Promise<number> {
  const config = loadOrReport(file, io);
  if (!config) return EXIT.failed;
  const logger = createLogger({ level: config.log.level, write: io.out });
  // Loaded on demand so that check-config never pulls in the probe engine.
  const { App } = await import('../app.js');
  let app;
  try {
    app = new App({ config, logger });
  } catch (err) {
    io.err(`vipwatch: cannot start: ${errorMessage(err)}`);
    return EXIT.failed;
  }
  try {
    await app.start();
  } catch (err) {
    io.err(`vipwatch: cannot start: ${errorMessage(err)}`);
    await app.stop().catch(() => {});
    return EXIT.failed;
  }
  const onHup = () => {
    try {
      const next = loadConfigFile(file, loadOptions(io));
      app.reload(next);
      logger.info('config reloaded', { file, targets: next.targets.length });
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [errorMessage(err)];
      logger.error('config reload rejected; the running config is unchanged', { file, problems });
    }
  };
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    signal?.addEventListener('abort', done, { once: true });
  });
  process.off('SIGHUP', onHup);
  await app.stop();
  return EXIT.ok;
}

/**
 * How `run` (at start and on SIGHUP), `check-config` and `test-alert` load the config: validated, then the files it
 * names are checked (an unreadable kubeconfig or a missing context refuses the whole file, like a validation problem).
 */
export function loadOptions(io: CliIo): LoadOptions {
  return { env: io.env, check: kubernetesFileProblems };
}

/** Loads a config, printing every problem on stderr when it is invalid. */
export function loadOrReport(file: string, io: CliIo): Config | undefined {
  try {
    return loadConfigFile(file, loadOptions(io));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(p);
    return undefined;
  }
}
