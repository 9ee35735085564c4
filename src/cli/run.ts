import { kubernetesFileProblems } from '../cluster/resolve-connection.js';
import { parseConfig, readConfigBytes, type LoadOptions } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { ConfigReloader, configDigest } from './config-reloader.js';
import { watchConfigFile } from './config-watch.js';
import { EXIT, type CliIo } from './io.js';
import { gracefulStop, stopRequested, type GracefulStopOptions } from './shutdown.js';

export interface RunOptions extends GracefulStopOptions {
  /** Quiet period after a change of the config file before it is reloaded. Default 500 ms. */
  reloadDebounceMs?: number;
}

/**
 * `vipwatch run`: long-running. SIGHUP or a change of the config file reloads it (all or nothing); SIGINT/SIGTERM
 * stop it within the grace period (see gracefulStop).
 */
export async function runCommand(file: string, io: CliIo, signal?: AbortSignal, opts: RunOptions = {}): Promise<number> {
  // Listen for SIGINT/SIGTERM before anything else: as PID 1 in a container an unhandled SIGTERM is ignored, and one
  // that arrives while vipwatch starts must still stop it (right after the start, cleanly).
  const giveUp = new AbortController();
  const stop = stopRequested(signal ? AbortSignal.any([signal, giveUp.signal]) : giveUp.signal);
  const failed = () => {
    giveUp.abort();
    return EXIT.failed;
  };
  let startedDigest: string | undefined;
  const config = loadOrReport(file, io, (bytes) => (startedDigest = configDigest(bytes)));
  if (!config) return failed();
  // The level is read at each line: a reload's log.level applies at once, to every component's child logger too.
  let level = config.log.level;
  const logger = createLogger({ level: () => level, write: io.out });
  // Loaded on demand so that check-config never pulls in the probe engine.
  const { App } = await import('../app.js');
  let app;
  try {
    app = new App({ config, logger });
  } catch (err) {
    io.err(`vipwatch: cannot start: ${errorMessage(err)}`);
    return failed();
  }
  try {
    await app.start();
  } catch (err) {
    io.err(`vipwatch: cannot start: ${errorMessage(err)}`);
    await app.stop().catch(() => {});
    return failed();
  }
  const reloader = new ConfigReloader({ file, started: config, app, logger, loadOptions: loadOptions(io), setLogLevel: (l) => (level = l), startedDigest });
  const stopReloading = reloadOn(file, reloader, logger, opts.reloadDebounceMs);
  const why = await stop;
  stopReloading();
  return await gracefulStop(app, logger, why, opts);
}

/** SIGHUP and changes of the file reload it; returns what ends both. */
function reloadOn(file: string, reloader: ConfigReloader, logger: Logger, debounceMs?: number): () => void {
  const onHup = () => void reloader.reload('SIGHUP');
  process.on('SIGHUP', onHup);
  const watch = watchConfigFile({ file, debounceMs, logger, onChange: () => reloader.fileChanged() });
  // A change made while vipwatch started (after the file was read, before it was watched) made no event: look once.
  reloader.fileChanged(true);
  return () => {
    process.off('SIGHUP', onHup);
    watch.close();
  };
}

/**
 * How `run` (at start and on SIGHUP), `check-config` and `test-alert` load the config: validated, then the files it
 * names are checked (an unreadable kubeconfig or a missing context refuses the whole file, like a validation problem).
 */
export function loadOptions(io: CliIo): LoadOptions {
  return { env: io.env, check: (c) => kubernetesFileProblems(c, io.env) };
}

/** Loads a config, printing every problem on stderr when it is invalid; `onBytes` sees the bytes it was read from. */
export function loadOrReport(file: string, io: CliIo, onBytes?: (bytes: Buffer) => void): Config | undefined {
  try {
    const bytes = readConfigBytes(file);
    onBytes?.(bytes);
    return parseConfig(bytes.toString('utf8'), file, loadOptions(io));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(p);
    return undefined;
  }
}
