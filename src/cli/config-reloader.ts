import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import { loadConfigFile, MAX_CONFIG_BYTES, parseConfig, type LoadOptions } from '../config/load.js';
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
    this.lastDigest = readConfig(o.file).digest;
  }

  /** A change of the file was seen: reloads when its content differs from what was last read (a touch does nothing). */
  fileChanged(): void {
    const read = readConfig(this.o.file);
    if (read.digest === this.lastDigest) {
      this.o.logger.debug('config file touched but not changed: not reloaded', { file: this.o.file });
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
      // Text that could not be read within the limit is left to loadConfigFile, which says why in the usual form.
      next = read.text === undefined ? loadConfigFile(file, this.o.loadOptions) : parseConfig(read.text, file, this.o.loadOptions);
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
  /** The file's text, or undefined when it cannot be read or is over the size limit. */
  text?: string;
  /** sha256 of the bytes, or of why they could not be read. */
  digest: string;
}

/** The file's content, read at most up to the config size limit (a FIFO or a huge file cannot make it read more). */
function readConfig(file: string): ReadResult {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    return { digest: `unreadable:${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}` };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { digest: 'unreadable:EISDIR' };
    const limit = MAX_CONFIG_BYTES + 1;
    // Sized by the file (a config is a few KiB), grown when it was not its real size (a FIFO, a file still growing).
    let buf = Buffer.allocUnsafe(Math.min(limit, Math.max(4096, st.size + 1)));
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r <= 0) break;
      n += r;
      if (n === buf.length) {
        if (buf.length >= limit) break;
        const bigger = Buffer.allocUnsafe(Math.min(limit, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
    }
    const digest = createHash('sha256').update(buf.subarray(0, n)).digest('hex');
    return n > MAX_CONFIG_BYTES ? { digest } : { text: buf.toString('utf8', 0, n), digest };
  } catch (err) {
    return { digest: `unreadable:${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}` };
  } finally {
    closeSync(fd);
  }
}
