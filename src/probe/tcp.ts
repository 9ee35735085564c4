import type { Socket } from 'node:net';
import { excerpt, matches } from './text.js';
import type { ProberOptions } from './options.js';
import { ProbeRun } from './run.js';
import type { Prober, ProbeResult, ProbeSpec, TcpCheck } from './types.js';

/** Connect (fresh, once, never retried), optionally send and expect, then close. */
export class TcpProber implements Prober {
  constructor(private readonly opts: ProberOptions = {}) {}

  probe(spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
    const run = new ProbeRun(signal);
    const check = spec.tcp;
    if (check && (check.send !== undefined || check.expectRegex)) run.onReady = (s) => exchange(run, s, check);
    run.open(spec.address, spec.port, this.opts.lookup);
    return run.result;
  }
}

function exchange(run: ProbeRun, s: Socket, check: TcpCheck): void {
  const re = check.expectRegex;
  if (re) {
    let got = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      run.firstByte();
      const room = check.maxBytes - got.length;
      got = Buffer.concat([got, room < chunk.length ? chunk.subarray(0, room) : chunk]);
      const text = got.toString('utf8');
      if (matches(re, text)) return run.succeed();
      if (got.length >= check.maxBytes) mismatch(run, re, text, `the first ${check.maxBytes} bytes (tcp.maxBytes)`);
    });
    s.once('end', () => mismatch(run, re, got.toString('utf8'), `${got.length} bytes before the peer closed`));
  }
  if (check.send !== undefined) {
    // Without an expectation, the exchange is done once the kernel took the bytes.
    s.write(check.send, re ? undefined : (err) => (err ? run.failWith(err) : run.succeed()));
  }
}

function mismatch(run: ProbeRun, re: RegExp, text: string, what: string): void {
  run.fail({ reason: 'body_mismatch', detail: `expectRegex ${re} did not match ${what}: ${excerpt(text)}` });
}
