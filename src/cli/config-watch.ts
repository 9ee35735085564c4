import { watch, realpathSync, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export interface ConfigWatchOptions {
  file: string;
  /** Called this long after the last change seen (an editor's save or a ConfigMap update is several events). */
  debounceMs?: number;
  /** How often the file is checked when the kernel gives no watch (default 2 s). */
  pollMs?: number;
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
 * When the kernel refuses a watch (inotify's per-user limits: EMFILE for instances, ENOSPC for watches, both shared
 * by every process of the user), it says so once and checks the file every pollMs instead, so a reload still happens.
 */
export function watchConfigFile(o: ConfigWatchOptions): ConfigWatch {
  const file = resolve(o.file);
  const debounceMs = o.debounceMs ?? 500;
  const pollMs = o.pollMs ?? 2000;
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
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
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Missing for now (mid-swap, or a directory that is not there): the other watches see it come back.
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      startPolling(code ?? errorMessage(err));
    }
  };
  /** What a change of the file (its content, or the file the path leads to) changes. */
  const signature = (): string => {
    try {
      const st = statSync(file);
      return `${realpathSync(file)}|${st.dev}|${st.ino}|${st.size}|${st.mtimeMs}|${st.ctimeMs}`;
    } catch (err) {
      return `unreadable: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`;
    }
  };
  const startPolling = (why: string) => {
    if (poll || closed) return;
    o.logger.warn('cannot watch the config file for changes; checking it periodically instead', { file, error: why, pollMs });
    let last = signature();
    poll = setInterval(() => {
      const now = signature();
      if (now === last) return;
      last = now;
      changed();
    }, pollMs);
    poll.unref();
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
      clearInterval(poll);
      for (const w of watchers) w.close();
      watchers = [];
    },
  };
}
