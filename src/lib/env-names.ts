/**
 * The environment variables vipwatch itself reads (a public contract, like the error codes, and spelled only here).
 * Config files name others with ${VAR}; those are the user's.
 */
export const ENV = {
  /** The config `run` uses when the --config file does not exist (the image sets its built-in default). */
  DEFAULT_CONFIG: 'VIPWATCH_DEFAULT_CONFIG',
  /** The state directory when the config sets no `state.dir` (the image sets its volume, /var/lib/vipwatch). */
  STATE_DIR: 'VIPWATCH_STATE_DIR',
} as const;
