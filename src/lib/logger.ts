import { scrub } from './redact.js';

/** JSON-lines logger: one object per line on a stream (stdout by default); every string passes the secret scrubber. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  enabled(level: Level): boolean;
}

export interface LoggerOptions {
  /** The least level written; a function is read at each line (a level a config reload may change, for every child too). */
  level?: Level | (() => Level);
  write?: (line: string) => void;
  now?: () => number;
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const setting = opts.level ?? 'info';
  const on = typeof setting === 'string' ? (l: Level) => ORDER[l] >= ORDER[setting] : (l: Level) => ORDER[l] >= ORDER[setting()];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = opts.now ?? Date.now;
  const base = opts.base ?? {};
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (!on(level)) return;
    write(JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...base, ...fields }, replacer));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
    enabled: on,
  };
}

/** Strings are scrubbed one by one (before JSON escaping, so a secret with a quote in it is still found). */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value instanceof Error) return { message: value.message, code: (value as { code?: string }).code };
  return value;
}

export const silentLogger: Logger = createLogger({ write: () => {} });
