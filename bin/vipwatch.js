#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';
import { scrub } from '../dist/src/lib/redact.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  // An internal error (a bug): its stack may quote a configured secret, so it goes through the same scrubber as logs.
  (err) => { console.error(scrub(err?.stack ?? String(err))); process.exitCode = 70; },
);
