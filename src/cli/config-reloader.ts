import { createHash } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';
import { parseConfig, readConfigBytes, type LoadOptions } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import type { Level, Logger } from '../lib/logger.js';
import { restartMessage, restartNeeded } from './reload-diff.js';

export interface ConfigReloaderOptions {
  file: string;
  /** The config the process started with (what it runs for every key a reload cannot apply). */
  started: Config;
  app: { reload(config: Config): void; readonly registry: Registry };
  logger: Logger;
  loadOptions: LoadOptions;
  /** Applies a reloaded `log.level`. */
  setLogLevel?(level: Level): void;
  now?: () => number;
  /**
   * configDigest() of the bytes the started config was parsed from. Without it the file is read again here, and a
   * change made since the start (before the file was watched) would pass for what is running and never be applied.
   */
  startedDigest?: string;
}

export type ReloadCause = 'SIGHUP' | 'file change';

/**
 * Reloads the config file, all or nothing: a file that loads (parses, validates, passes its checks) is applied, one
 * that does not changes nothing and its problems are logged as FILE:LINE:COL. Exports what blackbox_exporter does:
 * vipwatch_config_last_reload_successful and vipwatch_config_last_reload_success_timestamp_seconds (set at start too).
 */
export class ConfigReloader {
  private readonly ok: Gauge;
  private readonly at: Gauge;
  private readonly now: () => number;
  /** Digest of the file content last acted on (loaded or refused): a change event with the same content is no change. */
  private lastDigest: string;

  constructor(private readonly o: ConfigReloaderOptions) {
    this.now = o.now ?? Date.now;
    this.ok = new Gauge({ name: 'vipwatch_config_last_reload_successful', help: 'Whether the last configuration load or reload succeeded (1) or was refused (0).', registers: [o.app.registry] });
    this.at = new Gauge({ name: 'vipwatch_config_last_reload_success_timestamp_seconds', help: 'When the configuration was last loaded successfully (at start or by a reload), in seconds since the epoch.', registers: [o.app.registry] });
    this.ok.set(1);
    this.at.set(this.now() / 1000);
    this.lastDigest = o.startedDigest ?? readConfig(o.file).digest;
  }

  /**
   * A change of the file was seen: reloads when its content differs from what was last read (a touch does nothing).
   * `catchUp`: not an event, the check made once the file is watched (silent when nothing changed).
   */
  fileChanged(catchUp = false): void {
    const read = readConfig(this.o.file);
    if (read.digest === this.lastDigest) {
      if (!catchUp) this.o.logger.debug('config file touched but not changed: not reloaded', { file: this.o.file });
      return;
    }
    this.apply(read, 'file change');
  }

  /** SIGHUP: reloads whatever the content. Returns whether the new config was applied. */
  reload(cause: ReloadCause = 'SIGHUP'): boolean {
    return this.apply(readConfig(this.o.file), cause);
  }

  private apply(read: ReadResult, cause: ReloadCause): boolean {
    const { file, logger } = this.o;
    this.lastDigest = read.digest;
    let next: Config;
    try {
      if (read.error !== undefined) throw read.error;
      next = parseConfig(read.text!, file, this.o.loadOptions);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [errorMessage(err)];
      this.ok.set(0);
      logger.error('config reload rejected; the running config is unchanged', { file, cause, problems });
      return false;
    }
    try {
      this.o.app.reload(next);
      this.o.setLogLevel?.(next.log.level);
    } catch (err) {
      this.ok.set(0);
      logger.error('config reload failed while applying it', { file, cause, error: errorMessage(err) });
      return false;
    }
    this.ok.set(1);
    this.at.set(this.now() / 1000);
    logger.info('config reloaded', { file, cause, targets: next.targets.length });
    const keys = restartNeeded(this.o.started, next);
    if (keys.length) logger.warn(restartMessage(keys), { file, restartNeeded: keys });
    return true;
  }
}

interface ReadResult {
  /** The file's text; undefined when it could not be read (then `error` says why, as the loader words it). */
  text?: string;
  error?: unknown;
  /** sha256 of the bytes, or the reason they could not be read: the same content, or the same failure, is no change. */
  digest: string;
}

/** What tells one content of the config file from another. */
export function configDigest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The file's content, read as the loader reads it (bounded by the config size limit). */
function readConfig(file: string): ReadResult {
  try {
    const bytes = readConfigBytes(file);
    return { text: bytes.toString('utf8'), digest: configDigest(bytes) };
  } catch (err) {
    return { error: err, digest: `unreadable:${err instanceof ConfigError ? err.problems.join('\n') : errorMessage(err)}` };
  }
}
