import { join } from 'node:path';
import { allSinks, type AlertingConfig, type SinkConfig } from '../config/sections/alerting.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { AlertmanagerSink } from './alertmanager.js';
import { EmailSink } from './email.js';
import type { AlertMetrics } from './metrics.js';
import type { Sink } from './sink.js';
import { WebhookSink } from './webhook.js';

export interface SinkDeps {
  clock: Clock;
  logger: Logger;
  metrics?: AlertMetrics;
  /** state.dir; sinks with state (Alertmanager) keep it there. None for one-off sends. */
  stateDir?: string;
}

/** The one place that maps a sink config to its implementation. */
export function createSink(c: SinkConfig, deps: SinkDeps): Sink {
  switch (c.type) {
    case 'webhook':
      return new WebhookSink(c, deps.clock);
    case 'email':
      return new EmailSink(c);
    case 'alertmanager':
      return new AlertmanagerSink({
        config: c, clock: deps.clock, logger: deps.logger, metrics: deps.metrics,
        stateFile: deps.stateDir ? join(deps.stateDir, 'alertmanager', `${c.name}.json`) : undefined,
      });
  }
}

export function createSinks(config: AlertingConfig, deps: SinkDeps): Sink[] {
  return allSinks(config).map((c) => createSink(c, deps));
}
