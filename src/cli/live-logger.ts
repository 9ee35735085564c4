import { createLogger, type Level, type Logger } from '../lib/logger.js';

const ORDER: readonly Level[] = ['debug', 'info', 'warn', 'error'];

/** A logger whose level can change while it runs (a config reload's `log.level`), for it and every child made from it. */
export interface LiveLogger {
  logger: Logger;
  setLevel(level: Level): void;
}

export function liveLogger(level: Level, write: (line: string) => void): LiveLogger {
  const state = { min: ORDER.indexOf(level) };
  // The inner logger writes everything; the wrapper decides, from the shared level.
  return { logger: wrap(createLogger({ level: 'debug', write }), state), setLevel: (l) => (state.min = ORDER.indexOf(l)) };
}

function wrap(inner: Logger, state: { min: number }): Logger {
  const on = (l: Level) => ORDER.indexOf(l) >= state.min;
  return {
    debug: (m, f) => on('debug') && inner.debug(m, f),
    info: (m, f) => on('info') && inner.info(m, f),
    warn: (m, f) => on('warn') && inner.warn(m, f),
    error: (m, f) => on('error') && inner.error(m, f),
    child: (fields) => wrap(inner.child(fields), state),
    enabled: on,
  };
}
