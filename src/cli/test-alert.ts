import type { Config } from '../config/schema.js';
import { allSinks } from '../config/sections/alerting.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import { scrub } from '../lib/redact.js';
import { toNotification } from '../alerting/notification.js';
import { sampleIncident } from '../alerting/sample-incident.js';
import { sendOnce } from '../alerting/send-once.js';
import { createSink } from '../alerting/sinks.js';

/**
 * `vipwatch test-alert`: sends a sample incident, marked as a test, straight to every sink (or one), not
 * through the outbox, and prints one line per sink. 0 when every send succeeded, 1 otherwise.
 */
export async function testAlertCommand(config: Config, opts: { sink?: string; out: (line: string) => void; clock?: Clock }): Promise<number> {
  const clock = opts.clock ?? systemClock;
  // Every line passes the scrubber: a receiver's error may echo a secret, and --sink echoes what was typed.
  const out = (line: string) => opts.out(scrub(line));
  const configs = allSinks(config.alerting).filter((s) => opts.sink === undefined || s.name === opts.sink);
  if (!configs.length) {
    const names = allSinks(config.alerting).map((s) => s.name);
    out(opts.sink === undefined
      ? 'no alert sinks configured (alerting.webhooks, alerting.email, alerting.alertmanager)'
      : `no sink named "${opts.sink}"${names.length ? ` (configured: ${names.join(', ')})` : ' (none configured)'}`);
    return 1;
  }
  const now = clock.now();
  const instance = config.alerting.instance;
  const n = toNotification({ type: 'open', incident: sampleIncident(now, instance), at: now }, { seq: 0, queuedAt: now, instance, test: true });
  let failed = 0;
  // One after another: the output reads in config order and a slow sink is visible as such.
  for (const c of configs) {
    const sink = createSink(c, { clock, logger: silentLogger });
    try {
      const r = await sendOnce(sink, n, clock);
      if (r.ok) out(`ok    ${c.type} ${c.name} -> ${sink.endpoint} (${Math.round(r.ms)}ms)`);
      else {
        failed++;
        out(`FAIL  ${c.type} ${c.name} -> ${sink.endpoint}: ${r.error.reason}: ${r.error.message}`);
      }
    } finally {
      await sink.close().catch(() => {});
    }
  }
  return failed ? 1 : 0;
}
