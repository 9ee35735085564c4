import { watch, realpathSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export interface ConfigWatchOptions {
  file: string;
  /** Called this long after the last change seen (an editor's save or a ConfigMap update is several events). */
  debounceMs?: number;
  onChange(): void;
  logger: Logger;
}

export interface ConfigWatch {
  close(): void;
}

/**
 * Watches a config file for changes, however they are made: the file itself (an edit in place), its directory (an
 * editor's save by rename, `mv new vipwatch.yaml`, the `..data` symlink swap of a Kubernetes ConfigMap volume), and,
 * when the path is a symlink, the directory of the file it points to. After each quiet period the watches are made
 * afresh (a replaced file is a new inode) and onChange runs; whether the content changed is the caller's question.
 */
export function watchConfigFile(o: ConfigWatchOptions): ConfigWatch {
  const file = resolve(o.file);
  const debounceMs = o.debounceMs ?? 500;
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const changed = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  };
  const fire = () => {
    timer = undefined;
    if (closed) return;
    arm();
    try {
      o.onChange();
    } catch (err) {
      o.logger.error('config file change could not be handled', { file, error: errorMessage(err) });
    }
  };
  /** A watch on `path`; in a directory only events about `name` (and Kubernetes' `..data` entries) count. */
  const add = (path: string, name?: string) => {
    try {
      const w = watch(path, { persistent: false }, (_event, entry) => {
        if (!name || !entry || entry === name || String(entry).startsWith('..')) changed();
      });
      // A watched directory or file that goes away (a ConfigMap's old timestamped directory): look again.
      w.on('error', changed);
      watchers.push(w);
    } catch {
      // Missing for now (mid-swap, or a directory that is not there): the other watches see it come back.
    }
  };
  const arm = () => {
    for (const w of watchers) w.close();
    watchers = [];
    add(file);
    add(dirname(file), basename(file));
    let real: string | undefined;
    try {
      real = realpathSync(file);
    } catch {
      real = undefined;
    }
    if (real && dirname(real) !== dirname(file)) add(dirname(real), basename(real));
  };

  arm();
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
      watchers = [];
    },
  };
}
