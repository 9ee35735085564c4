import { loadConfigFile } from '../config/load.js';
import { ConfigError } from '../lib/errors.js';
import { EXIT, type CliIo } from './io.js';
import { loadOptions } from './run.js';

/**
 * Validates a config file and checks the files it names (kubeconfig and its context), exactly as `run` loads it:
 * exit 0 when valid, 1 listing every problem.
 */
export function checkConfigCommand(file: string, io: CliIo): number {
  try {
    const config = loadConfigFile(file, loadOptions(io));
    io.out(`${file}: ok (${config.targets.length} target${config.targets.length === 1 ? '' : 's'})`);
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(p);
    io.err(`${file}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}`);
    return EXIT.failed;
  }
}
