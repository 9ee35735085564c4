/**
 * The real `vipwatch` CLI from this checkout's TypeScript sources, without a build, for tests that run it as a child
 * process: `node --import ./test/support/net-ts-loader.mjs test/support/vipwatch-ts-child.ts run --config FILE`.
 */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
