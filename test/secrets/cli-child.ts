/**
 * The vipwatch CLI exactly as bin/vipwatch.js runs it, from this checkout's sources (no build needed):
 * `node --import ./test/support/net-ts-loader.mjs test/secrets/cli-child.ts run --config FILE`.
 */
import { main } from '../../src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => { console.error((err as Error)?.stack ?? String(err)); process.exitCode = 70; },
);
