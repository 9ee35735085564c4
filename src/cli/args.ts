/**
 * The CLI's argv parsing: node:util's parseArgs in strict mode, with the options of one command only, so an option
 * another command takes (or a typo) is a usage error naming it. `--flag value`, `--flag=value`, boolean `--help`/`-h`.
 */
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { ERR } from '../lib/error-codes.js';
import { errorMessage, VipwatchError } from '../lib/errors.js';

/** Bad command line: printed with a hint, exit code 2. */
export class UsageError extends VipwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERR.USAGE, message, options);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  flags: Record<string, string | true>;
  positionals: string[];
}

/** The options one command accepts: `values` take a string, `booleans` none. */
export interface ArgsSpec {
  values: readonly string[];
  booleans: readonly string[];
}

export function parseArgs(argv: readonly string[], spec: ArgsSpec): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const name of spec.values) options[name] = { type: 'string' };
  for (const name of spec.booleans) options[name] = name === 'help' ? { type: 'boolean', short: 'h' } : { type: 'boolean' };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = nodeParseArgs({ args: [...argv], options, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError(explain(argv, options, err), { cause: err });
  }
  const flags: Record<string, string | true> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === '') throw new UsageError(`--${name} needs a value`);
    if (typeof value === 'string') flags[name] = value;
    else if (value === true) flags[name] = true;
  }
  return { flags, positionals: parsed.positionals };
}

/** The first offending argument, in the CLI's words (node's messages are written for programmers). */
function explain(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>, err: unknown): string {
  const { tokens } = nodeParseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const o = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (!o) return `unknown option ${t.rawName}`;
    if (o.type === 'boolean' && t.value !== undefined) return `${t.rawName} takes no value`;
    // Strict mode refuses `--config --sink x` (the next argument looks like an option): the value is missing.
    const missing = t.value === undefined || t.value === '' || (t.inlineValue === false && t.value.startsWith('-'));
    if (o.type === 'string' && missing) return `${t.rawName} needs a value`;
  }
  return errorMessage(err);
}
