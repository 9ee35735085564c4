/**
 * The change point that matters most after an asymmetric-routing fault: a node the split blamed serves a success again.
 * Under a path drop every connection to that node times out, so one success through it is decisive: the fault stopped
 * there (fixed, or the pod moved). The attempts before that point are evidence about the past, not the present; read
 * together with the ones after it they look like random loss (timeouts, yet every node serves), which they are not.
 */
import type { Attempt } from '../history/attempt.js';
import type { Ctx, Finding } from './context.js';
import { asymmetric } from './findings.js';
import { shareOf } from './sample.js';
import { tally } from './tally.js';

export interface ServedAgain {
  /** Index in c.used of the first success through a blamed node after its silence. */
  at: number;
  /** The node that served again. */
  node: string;
  /** What the attempts before `at` showed (an asymmetric_routing finding naming `node`). */
  before: Finding;
}

/**
 * The earliest point in the attempts where a node that the attempts before it isolate as the silent node of an
 * asymmetric-routing split serves a success. Needs backend identity and a fresh placement; undefined when none.
 */
export function servedAgain(c: Ctx): ServedAgain | undefined {
  if (c.identity !== 'backend' || !c.placementKnown || c.t.timeouts === 0) return undefined;
  const candidates: { at: number; node: string }[] = [];
  for (const node of Object.keys(c.placement!.endpointsPerNode)) {
    const share = shareOf(c.placement!, [node]);
    if (share <= 0 || share >= 1) continue;
    // Successes of other nodes it must have missed for its silence to be significant on its own.
    const needed = Math.ceil(Math.log(c.cfg.pValue) / Math.log(1 - share));
    let others = 0;
    let timeouts = 0;
    let latest = -1;
    c.used.forEach((a, i) => {
      if (a.ok && a.backendNode === node) {
        if (others >= needed && timeouts > 0) latest = i;
        others = timeouts = 0;
      } else if (a.ok) others++;
      else if (a.reason === 'connect_timeout') timeouts++;
    });
    if (latest > 0) candidates.push({ at: latest, node });
  }
  candidates.sort((a, b) => a.at - b.at);
  for (const cand of candidates) {
    const found = asymmetric(segment(c, c.used.slice(0, cand.at))).finding;
    if (found?.suspectedNodes?.includes(cand.node)) return { ...cand, before: found };
  }
  return undefined;
}

/** The context of a contiguous part of the attempts: counts, identity and the whole-window rules see only that part. */
export function segment(c: Ctx, used: Attempt[]): Ctx {
  return { ...c, used, t: tally(used), sample: { ...c.sample, all: used, otherView: 0 } };
}
