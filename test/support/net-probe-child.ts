/**
 * Runs probe attempts one after another and prints their ProbeResults as a JSON array: for tests that need the
 * prober in another process, e.g. inside a network namespace
 * (`ip netns exec NS node --import ./test/support/net-ts-loader.mjs THIS SPECS_JSON`).
 * SPECS_JSON is an array of ProbeSpecs without RegExp fields.
 */
import { createProbers } from '../../src/probe/registry.js';
import type { ProbeSpec } from '../../src/probe/types.js';

export async function main(argv: string[]): Promise<void> {
  const specs = JSON.parse(argv[0] ?? '') as ProbeSpec[];
  const probers = createProbers();
  const results = [];
  for (const spec of specs) results.push(await probers[spec.protocol].probe(spec, AbortSignal.timeout(spec.timeoutMs)));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main(process.argv.slice(2));
