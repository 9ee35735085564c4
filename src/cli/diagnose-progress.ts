/**
 * Progress of `vipwatch diagnose` on stderr (stdout holds the report): a bar redrawn in place on a terminal, a plain
 * line every PLAIN_EVERY attempts otherwise (logs and CI keep every line).
 */
import type { Diagnosis } from '../diagnosis/types.js';
import type { Attempt } from '../history/attempt.js';

export const PLAIN_EVERY = 10;
const BAR = 30;

export interface Progress {
  attempt(a: Attempt, d: Diagnosis, recorded: number): void;
  /** Ends the bar's line (the report follows). */
  done(): void;
}

export interface ProgressSink {
  /** A terminal: redraw with "\r". */
  tty: boolean;
  /** Raw text (no newline added): for the bar. */
  write(text: string): void;
  /** One line. */
  line(text: string): void;
}

export function progressFor(sink: ProgressSink, total: number): Progress {
  let failed = 0;
  let drawn = false;
  let last: { recorded: number; d: Diagnosis } | undefined;
  const reasons = new Map<string, number>();
  const status = (recorded: number, d: Diagnosis) => {
    const why = [...reasons.entries()].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} x${n}`).join(', ');
    return `${recorded}/${total} attempts, ${recorded - failed} ok, ${failed} failed${why ? ` (${why})` : ''}; verdict so far: ${d.verdict}`;
  };
  return {
    attempt(a, d, recorded) {
      if (!a.ok) {
        failed++;
        const r = a.reason ?? 'unknown';
        reasons.set(r, (reasons.get(r) ?? 0) + 1);
      }
      last = { recorded, d };
      if (sink.tty) {
        const filled = Math.round((recorded / total) * BAR);
        sink.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${status(recorded, d)}`);
        drawn = true;
      } else if (recorded % PLAIN_EVERY === 0) sink.line(status(recorded, d));
    },
    done() {
      if (drawn) sink.write('\n');
      else if (!sink.tty && last && last.recorded % PLAIN_EVERY !== 0) sink.line(status(last.recorded, last.d));
    },
  };
}
